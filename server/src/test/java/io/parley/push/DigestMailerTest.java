package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.parley.config.PushSettings;
import io.parley.testing.Await;
import io.vertx.core.Vertx;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DigestMailer} against an in-process SMTP server (GreenMail, on a port of its choosing):
 * the digest arrives with its To, From, subject and a body of conversations and counts; without
 * previews no message text is in it, with previews each is on its entry's line; a server that is
 * gone fails the future; no SMTP host, no mailer.
 */
class DigestMailerTest {
  private Vertx vertx;
  private GreenMail smtp;
  private DigestMailer mailer;

  private static PushSettings settings(String host, int port) {
    return new PushSettings(10, 0, "", "", "", "", "https://fcm.googleapis.com", true, host, port, "digest@parley.test",
        "OPTIONAL", "", "", "", "", "", "", "https://api.push.apple.com", "https://api.sandbox.push.apple.com", "");
  }

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    smtp = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
    smtp.start();
    mailer = DigestMailer.create(vertx, settings("127.0.0.1", smtp.getSmtp().getPort())).orElseThrow();
  }

  @AfterEach
  void stop() {
    Await.result(mailer.close());
    Await.result(vertx.close());
    smtp.stop();
  }

  private MimeMessage onlyMessage() {
    MimeMessage[] received = smtp.getReceivedMessages();
    assertThat(received).hasSize(1);
    return received[0];
  }

  @Test
  void theDigestArrivesWithConversationsAndCountsAndNoMessageText() throws Exception {
    Await.result(mailer.sendDigest("bob@example.com", "bob", List.of(
        new DigestEntry(101, "Weekend plans", 3, null), new DigestEntry(202, null, 1, null))));

    MimeMessage m = onlyMessage();
    assertThat(m.getRecipients(Message.RecipientType.TO)).extracting(Object::toString).containsExactly("bob@example.com");
    assertThat(m.getFrom()).extracting(Object::toString).containsExactly("digest@parley.test");
    assertThat(m.getSubject()).isEqualTo("You have 4 new messages in 2 conversations");
    String body = GreenMailUtil.getBody(m).replace("\r\n", "\n");
    assertThat(body).contains("Hello bob,")
        .contains("- Weekend plans: 3 new messages\n")
        .contains("- Conversation 202: 1 new message\n")
        .doesNotContain("\"");
    assertThat(body.lines().filter(l -> l.startsWith("    "))).as("no preview lines").isEmpty();
  }

  @Test
  void previewsAreShownUnderTheirConversationOnOneLine() throws Exception {
    Await.result(mailer.sendDigest("carol@example.com", "carol", List.of(
        new DigestEntry(7, "Team\r\nBcc: evil@example.com", 1, "see you at\nnoon"))));

    MimeMessage m = onlyMessage();
    assertThat(m.getSubject()).isEqualTo("You have 1 new message in 1 conversation");
    assertThat(m.getAllRecipients()).extracting(Object::toString).containsExactly("carol@example.com");
    String body = GreenMailUtil.getBody(m).replace("\r\n", "\n");
    assertThat(body).contains("- Team  Bcc: evil@example.com: 1 new message\n    \"see you at noon\"\n");
  }

  @Test
  void aServerThatIsGoneFailsTheFuture() {
    smtp.stop();
    Throwable failure = Await.failure(mailer.sendDigest("bob@example.com", "bob", List.of(new DigestEntry(1, null, 1, null))));
    assertThat(failure).isNotNull();
  }

  @Test
  void anEmptyDigestIsRefusedAndNothingIsSent() {
    assertThat(Await.failure(mailer.sendDigest("bob@example.com", "bob", List.of()))).isInstanceOf(IllegalArgumentException.class);
    assertThat(smtp.getReceivedMessages()).isEmpty();
  }

  @Test
  void noSmtpHostNoMailer() {
    assertThat(DigestMailer.create(vertx, settings("", 25))).isEmpty();
  }
}
