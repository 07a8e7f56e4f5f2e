package io.parley.push;

import io.parley.config.PushSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.mail.LoginOption;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import java.util.List;
import java.util.Optional;

/**
 * Sends the push spill-over's email digest: when a user's pushes waited longer than
 * {@code push.spill_after_ms}, one plain-text email lists the conversations with new messages and
 * their counts instead. Message text appears only as the entries' previews, which the caller
 * fills only when {@code push.preview_chars} is on, so end-to-end-encrypted and privacy-minded
 * deployments send metadata only, as in pushes. Sent through SMTP with vertx-mail-client (its
 * connections are pooled and shared by every mailer of one Vert.x); non-blocking.
 */
public final class DigestMailer {
  /** The mail client pool's name: one pool per Vert.x, however many mailers use it. */
  static final String POOL = "parley-push-digest";

  private final MailClient client;
  private final String from;

  DigestMailer(MailClient client, String from) {
    this.client = client;
    this.from = from;
  }

  /** A mailer for the configured SMTP server, or empty when {@code push.smtp.host} is empty (no digests). */
  public static Optional<DigestMailer> create(Vertx vertx, PushSettings settings) {
    if (settings.smtpHost().isEmpty()) {
      return Optional.empty();
    }
    MailConfig config = new MailConfig()
        .setHostname(settings.smtpHost())
        .setPort(settings.smtpPort())
        .setStarttls(StartTLSOptions.valueOf(settings.smtpStarttls()))
        .setConnectTimeout(10_000);
    if (settings.smtpUsername().isEmpty()) {
      config.setLogin(LoginOption.DISABLED);
    } else {
      config.setLogin(LoginOption.REQUIRED).setUsername(settings.smtpUsername()).setPassword(settings.smtpPassword());
    }
    return Optional.of(new DigestMailer(MailClient.createShared(vertx, config, POOL), settings.smtpFrom()));
  }

  /**
   * Sends one digest to {@code to} for {@code user}; completes when the SMTP server accepted it and
   * fails when it refused it or could not be reached. {@code entries} must not be empty.
   */
  public Future<Void> sendDigest(String to, String user, List<DigestEntry> entries) {
    if (entries.isEmpty()) {
      return Future.failedFuture(new IllegalArgumentException("a digest lists at least one conversation"));
    }
    MailMessage mail = new MailMessage().setFrom(from).setTo(to).setSubject(subject(entries)).setText(body(user, entries));
    return client.sendMail(mail).mapEmpty();
  }

  /** Releases this mailer's share of the connection pool. */
  public Future<Void> close() {
    return client.close();
  }

  /** "You have N new messages in M conversations", in the singular where it is one. */
  static String subject(List<DigestEntry> entries) {
    return "You have " + newMessages(entries) + " in " + plural(entries.size(), "conversation");
  }

  static String body(String user, List<DigestEntry> entries) {
    StringBuilder sb = new StringBuilder(128 + 96 * entries.size())
        .append("Hello ").append(oneLine(user)).append(",\n\n")
        .append("while you were away you received ").append(newMessages(entries)).append(":\n\n");
    for (DigestEntry e : entries) {
      String title = e.title() == null || e.title().isBlank() ? "Conversation " + e.conv() : oneLine(e.title());
      sb.append("- ").append(title).append(": ").append(plural(e.count(), "new message")).append('\n');
      if (e.preview() != null && !e.preview().isEmpty()) {
        sb.append("    \"").append(oneLine(e.preview())).append("\"\n");
      }
    }
    return sb.append("\nOpen the app to read them.\n").toString();
  }

  private static String newMessages(List<DigestEntry> entries) {
    long n = 0;
    for (DigestEntry e : entries) {
      n += e.count();
    }
    return plural(n, "new message");
  }

  private static String plural(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  /** Control characters (line breaks among them) as spaces: each entry stays one line of the text. */
  private static String oneLine(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    s.codePoints().forEach(cp -> sb.appendCodePoint(Character.isISOControl(cp) ? ' ' : cp));
    return sb.toString();
  }
}
