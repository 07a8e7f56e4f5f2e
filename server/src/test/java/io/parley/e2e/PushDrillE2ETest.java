package io.parley.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.parley.push.PushStats;
import io.parley.pushfakes.FakeFcmService;
import io.parley.pushfakes.FakePushService;
import io.parley.testing.Await;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's end-to-end push drills on the embedded profile, against a real node in this JVM and
 * the providers' local fakes ({@link FakeFcmService}, {@link FakePushService}, GreenMail for SMTP):
 * coalescing to one push per window with the conversation's collapse key and the right badge; an
 * online device, the sender's devices and a muted conversation get none; a dead token is removed
 * and gets nothing more; pushes that wait past {@code push.spill_after_ms} become one email digest
 * and are never sent afterwards. The throttle drill is {@link PushThrottleDrillE2ETest}, kill -9
 * {@link PushKillIT}.
 *
 * <p>"None" is checked with a barrier, as in {@link PushE2ETest}: a later push that must come is
 * awaited, and a wrong one, which would have left before it, is looked for among everything the
 * fake accepted for this test's tokens.
 */
class PushDrillE2ETest {
  static final Duration WAIT = Duration.ofSeconds(15);
  static final long COALESCE_MS = 1000;
  @TempDir
  static Path dir;
  static FakeFcmService fcm;
  static FakePushService webPush;
  static TestNode node;
  static Clients clients;
  static final AtomicInteger SEQ = new AtomicInteger();

  @BeforeAll
  static void start() throws Exception {
    fcm = new FakeFcmService();
    Path account = fcm.writeServiceAccount(dir.resolve("service-account.json"));
    node = TestNode.start(Files.createDirectories(dir.resolve("data")), Map.of(
        "PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", account.toString(), "PARLEY_PUSH_FCM_BASE_URL", fcm.origin(),
        "PARLEY_PUSH_COALESCE_MS", Long.toString(COALESCE_MS)));
    clients = new Clients(node.port);
    webPush = new FakePushService(clients.request(HttpMethod.GET, "/v1/push/webpush-key", null, null).json()
        .getString("public_key"));
  }

  @AfterAll
  static void stop() {
    clients.close();
    node.close();
    fcm.close();
    webPush.close();
  }

  static String user(String name) {
    return name + "-" + SEQ.incrementAndGet();
  }

  static String fcmDevice(Clients clients, String userToken, String device) {
    String fcmToken = "fcm-" + device + "-" + SEQ.incrementAndGet();
    Clients.Response r = clients.request(HttpMethod.PUT, "/v1/devices/" + device + "/push", userToken,
        new JsonObject().put("provider", "fcm").put("token", fcmToken));
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    return fcmToken;
  }

  /** The next FCM message for one of {@code tokens} (those of other tests are skipped). */
  static FakeFcmService.Received next(FakeFcmService fcm, Set<String> tokens) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      FakeFcmService.Received r = fcm.received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (r == null) {
        throw new AssertionError("no FCM message for " + tokens + " within " + WAIT + "; errors " + fcm.errors);
      }
      if (tokens.contains(r.token())) {
        return r;
      }
    }
  }

  /** What FCM accepted so far for {@code tokens}, oldest first, as "token:conv". */
  static List<String> acceptedFor(FakeFcmService fcm, Set<String> tokens) {
    return fcm.pacing.accepted.stream().filter(a -> tokens.contains(a.address())).map(a -> a.address() + ":" + a.conv())
        .toList();
  }

  @Test
  void aBurstIsTwoPushesPerWindowWithTheCollapseKeyAndTheBadgeOfUnreadConversations() throws Exception {
    String alice = user("alice"), bob = user("bob"), carol = user("carol");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol);
    String withAlice = clients.dm(ta, bob);
    String withCarol = clients.dm(tc, bob);
    String phone = fcmDevice(clients, tb, "phone");
    Set<String> mine = Set.of(phone);
    WsClient a = clients.online(ta, "desk");
    WsClient c = clients.online(tc, "desk");

    // carol's message: bob has one conversation with unread messages
    String c1 = c.sendMsg("c1", withCarol, "hi").getString("server_id");
    FakeFcmService.Received fromCarol = next(fcm, mine);
    assertThat(fromCarol.data().getString("server_id")).isEqualTo(c1);
    assertThat(fromCarol.data().getString("badge")).isEqualTo("1");

    // a burst of 20 from alice, sent without waiting for acks: the first at once, the other 19 as one follow-up
    long burstStart = System.nanoTime();
    for (int i = 1; i <= 20; i++) {
      a.send(new JsonObject().put("op", "send").put("msg_id", "m" + i).put("conv", withAlice).put("body", "b" + i));
    }
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      JsonObject ack = a.next("ack");
      assertThat(ack.getString("msg_id")).isEqualTo("m" + i);
      ids.add(ack.getString("server_id"));
    }
    long ackedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstStart);
    FakeFcmService.Received first = next(fcm, mine);
    FakeFcmService.Received followUp = next(fcm, mine);
    long followUpMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - burstStart);
    System.out.printf("burst of 20: acked in %d ms, follow-up received after %d ms%n", ackedMs, followUpMs);
    assertThat(first.collapseKey()).isEqualTo("c" + withAlice);
    assertThat(first.data().getString("conv")).isEqualTo(withAlice);
    assertThat(first.data().getString("server_id")).isEqualTo(ids.get(0));
    assertThat(first.data().getString("count")).isEqualTo("1");
    assertThat(first.data().getString("sender")).isEqualTo(alice);
    assertThat(first.data().getString("badge")).as("carol's and alice's conversations are unread").isEqualTo("2");
    assertThat(followUp.collapseKey()).isEqualTo("c" + withAlice);
    assertThat(followUp.data().getString("server_id")).as("the newest message").isEqualTo(ids.get(19));
    assertThat(followUp.data().getString("count")).isEqualTo("19");
    assertThat(followUp.data().getString("badge")).isEqualTo("2");
    assertThat(followUpMs).as("the follow-up waits for the end of the window").isGreaterThanOrEqualTo(COALESCE_MS);

    // bob reads carol's conversation on his desk (his phone stays offline): one conversation unread
    WsClient bobDesk = clients.online(tb, "desk");
    bobDesk.send(new JsonObject().put("op", "read").put("conv", withCarol).put("server_id", c1));
    Await.until("bob's read mark is stored", () -> clients.request(HttpMethod.GET, "/v1/conversations", tb, null).json()
        .getJsonArray("conversations").stream().map(JsonObject.class::cast)
        .anyMatch(x -> x.getString("id").equals(withCarol) && c1.equals(x.getString("last_read_id"))), WAIT,
        Duration.ofMillis(20));

    // the next message, in a new window, is one push of its own: no stray of the burst is left over
    String m21 = a.sendMsg("m21", withAlice, "again").getString("server_id");
    FakeFcmService.Received next = next(fcm, mine);
    assertThat(next.collapseKey()).isEqualTo("c" + withAlice);
    assertThat(next.data().getString("server_id")).isEqualTo(m21);
    assertThat(next.data().getString("count")).isEqualTo("1");
    assertThat(next.data().getString("badge")).as("only alice's conversation is unread").isEqualTo("1");
    assertThat(acceptedFor(fcm, mine)).hasSize(4);
    assertThat(fcm.errors).isEmpty();
    a.close();
    c.close();
    bobDesk.close();
  }

  @Test
  void onlyTheRecipientsOfflineDevicesOfUnmutedConversationsGetPushes() throws Exception {
    String alice = user("alice"), bob = user("bob"), carol = user("carol"), dave = user("dave");
    String ta = clients.token(alice), tb = clients.token(bob), tc = clients.token(carol), td = clients.token(dave);
    String group = clients.group(ta, List.of(bob, carol));
    String barrier = clients.group(td, List.of(alice, bob, carol));
    String alicePhone = fcmDevice(clients, ta, "phone");
    String bobPhone = fcmDevice(clients, tb, "phone");
    String bobTablet = fcmDevice(clients, tb, "tablet");
    String carolPhone = fcmDevice(clients, tc, "phone");
    Set<String> mine = Set.of(alicePhone, bobPhone, bobTablet, carolPhone);
    Clients.Response mute = clients.request(HttpMethod.PUT, "/v1/conversations/" + group + "/settings", tc,
        new JsonObject().put("muted", true));
    assertThat(mute.status()).as(mute.body()).isEqualTo(204);
    WsClient tablet = clients.online(tb, "tablet");
    WsClient a = clients.online(ta, "desk");
    WsClient d = clients.online(td, "desk");

    String g1 = a.sendMsg("g1", group, "to the group").getString("server_id");
    FakeFcmService.Received got = next(fcm, mine);
    assertThat(got.token()).as("bob's phone; not his connected tablet, not alice's phone, not carol who muted")
        .isEqualTo(bobPhone);
    assertThat(got.data().getString("server_id")).isEqualTo(g1);
    assertThat(tablet.next("msg").getString("server_id")).isEqualTo(g1);

    // barrier: dave's message reaches alice's, bob's and carol's phones, and still not bob's tablet
    String h1 = d.sendMsg("h1", barrier, "barrier").getString("server_id");
    List<String> barrierTokens = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      FakeFcmService.Received r = next(fcm, mine);
      assertThat(r.data().getString("server_id")).as(r.token()).isEqualTo(h1);
      barrierTokens.add(r.token());
    }
    assertThat(barrierTokens).containsExactlyInAnyOrder(alicePhone, bobPhone, carolPhone);
    assertThat(tablet.next("msg").getString("server_id")).isEqualTo(h1);
    assertThat(acceptedFor(fcm, mine)).as("everything FCM got for this test's devices").containsExactlyInAnyOrder(
        bobPhone + ":" + group, alicePhone + ":" + barrier, bobPhone + ":" + barrier, carolPhone + ":" + barrier);
    assertThat(fcm.errors).isEmpty();
    tablet.close();
    a.close();
    d.close();
  }

  @Test
  void aDeadTokenIsRemovedAndGetsNothingMore() throws Exception {
    String alice = user("alice"), bob = user("bob");
    String ta = clients.token(alice), tb = clients.token(bob);
    String conv = clients.dm(ta, bob);
    String old = fcmDevice(clients, tb, "old");
    fcm.answer(old, FakeFcmService.Answer.UNREGISTERED);
    FakePushService.Subscription laptop = webPush.subscribe().answer(410);
    Clients.Response r = clients.request(HttpMethod.PUT, "/v1/devices/laptop/push", tb, laptop.registration());
    assertThat(r.status()).as(r.body()).isEqualTo(204);
    String current = fcmDevice(clients, tb, "new");
    Set<String> mine = Set.of(old, current);
    long fcmRefusedBefore = fcm.pacing.otherCount();
    long webPushRefusedBefore = webPush.pacing.otherCount();
    WsClient a = clients.online(ta, "desk");

    String m1 = a.sendMsg("m1", conv, "one").getString("server_id");
    assertThat(next(fcm, mine).token()).isEqualTo(current);
    Await.until("both dead registrations are removed", () -> clients.devices(tb).size() == 1, WAIT, Duration.ofMillis(20));
    assertThat(clients.devices(tb)).extracting(d -> d.getString("id")).containsExactly("new");
    assertThat(fcm.pacing.otherCount() - fcmRefusedBefore).as("FCM's UNREGISTERED, once").isEqualTo(1);
    assertThat(webPush.pacing.otherCount() - webPushRefusedBefore).as("the push service's 410, once").isEqualTo(1);

    // the next message reaches the live device only, and nothing more is asked for the dead ones
    String m2 = a.sendMsg("m2", conv, "two").getString("server_id");
    FakeFcmService.Received second = next(fcm, mine);
    assertThat(second.token()).isEqualTo(current);
    assertThat(second.data().getString("server_id")).isEqualTo(m2);
    assertThat(second.data().getString("count")).isEqualTo("1");
    assertThat(fcm.pacing.otherCount() - fcmRefusedBefore).isEqualTo(1);
    assertThat(webPush.pacing.otherCount() - webPushRefusedBefore).isEqualTo(1);
    assertThat(acceptedFor(fcm, mine)).containsExactly(current + ":" + conv, current + ":" + conv);
    assertThat(m1).isNotEqualTo(m2);
    assertThat(fcm.errors).isEmpty();
    assertThat(webPush.errors).isEmpty();
    a.close();
  }

  /**
   * Spill-over: FCM throttles bob's pushes without end, so after {@code push.spill_after_ms} (1 s)
   * they become ONE email digest to the address bob's token carried when he connected, listing
   * both conversations with their counts and no message text; and FCM never gets them afterwards,
   * not even once it stops throttling.
   */
  @Test
  void pushesThatWaitTooLongBecomeOneDigestAndAreNotSentAfterwards(@TempDir Path spillDir) throws Exception {
    GreenMail smtp = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
    smtp.start();
    try (FakeFcmService slowFcm = new FakeFcmService()) {
      Path account = slowFcm.writeServiceAccount(spillDir.resolve("service-account.json"));
      TestNode spillNode = TestNode.start(Files.createDirectories(spillDir.resolve("data")), Map.of(
          "PARLEY_PUSH_FCM_SERVICE_ACCOUNT_FILE", account.toString(), "PARLEY_PUSH_FCM_BASE_URL", slowFcm.origin(),
          "PARLEY_PUSH_WEBPUSH_ENABLED", "false", "PARLEY_PUSH_SPILL_AFTER_MS", "1000",
          "PARLEY_PUSH_SMTP_HOST", "127.0.0.1", "PARLEY_PUSH_SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()),
          "PARLEY_PUSH_SMTP_FROM", "digest@parley.test"));
      Clients spillClients = new Clients(spillNode.port);
      try {
        String alice = user("alice"), bob = user("bob"), carol = user("carol"), dave = user("dave"), erin = user("erin");
        String ta = spillClients.token(alice), tc = spillClients.token(carol), td = spillClients.token(dave),
            te = spillClients.token(erin);
        Clients.Response issued = spillClients.request(HttpMethod.POST, "/v1/dev/token", null,
            new JsonObject().put("user", bob).put("email", "bob@example.com"));
        assertThat(issued.status()).as(issued.body()).isEqualTo(200);
        String tb = issued.json().getString("token");
        // bob connects once (his address is remembered) and leaves
        spillClients.online(tb, "desk").close();
        Await.until("bob's address is remembered", () -> Await.result(spillNode.node.pushRegistrations().email(bob), WAIT)
            .filter("bob@example.com"::equals).isPresent(), WAIT, Duration.ofMillis(20));
        String withAlice = spillClients.dm(ta, bob);
        String withCarol = spillClients.dm(tc, bob);
        String withDave = spillClients.dm(td, erin);
        String bobPhone = fcmDevice(spillClients, tb, "phone");
        String erinPhone = fcmDevice(spillClients, te, "phone");
        WsClient a = spillClients.online(ta, "desk");
        WsClient c = spillClients.online(tc, "desk");
        WsClient d = spillClients.online(td, "desk");

        slowFcm.pacing.throttle(0, 1, 0); // 429, Retry-After: 1, until told otherwise
        for (int i = 0; i < 3; i++) {
          a.sendMsg("a" + i, withAlice, "secret text " + i);
        }
        for (int i = 0; i < 2; i++) {
          c.sendMsg("c" + i, withCarol, "secret text " + i);
        }
        Await.until("a digest arrives", () -> smtp.getReceivedMessages().length > 0, WAIT, Duration.ofMillis(20));
        PushStats stats = spillNode.node.pushStats();
        Await.until("the spilled pushes are counted", () -> stats.get("spilled") == 5, WAIT, Duration.ofMillis(20));

        // barrier: FCM answers again; erin's push goes through the same FCM lane, behind anything of bob's left there
        slowFcm.pacing.throttleOff();
        String e1 = d.sendMsg("e1", withDave, "barrier").getString("server_id");
        FakeFcmService.Received barrier = next(slowFcm, Set.of(bobPhone, erinPhone));
        assertThat(barrier.token()).as("no push to bob after his digest").isEqualTo(erinPhone);
        assertThat(barrier.data().getString("server_id")).isEqualTo(e1);
        assertThat(acceptedFor(slowFcm, Set.of(bobPhone))).isEmpty();
        assertThat(slowFcm.pacing.throttledCount()).as("bob's pushes were tried while FCM throttled").isPositive();

        MimeMessage[] mails = smtp.getReceivedMessages();
        assertThat(mails).as("exactly one digest").hasSize(1);
        MimeMessage mail = mails[0];
        assertThat(mail.getRecipients(Message.RecipientType.TO)).extracting(Object::toString)
            .containsExactly("bob@example.com");
        assertThat(mail.getFrom()).extracting(Object::toString).containsExactly("digest@parley.test");
        assertThat(mail.getSubject()).isEqualTo("You have 5 new messages in 2 conversations");
        String body = GreenMailUtil.getBody(mail).replace("\r\n", "\n");
        assertThat(body).contains("Hello " + bob + ",")
            .contains("- Conversation " + withAlice + ": 3 new messages\n")
            .contains("- Conversation " + withCarol + ": 2 new messages\n")
            .doesNotContain("secret");
        assertThat(stats.get("digests")).isEqualTo(1);
        assertThat(stats.get("expired")).isZero();
        assertThat(slowFcm.errors).isEmpty();
        a.close();
        c.close();
        d.close();
      } finally {
        spillClients.close();
        spillNode.close();
      }
    } finally {
      smtp.stop();
    }
  }
}
