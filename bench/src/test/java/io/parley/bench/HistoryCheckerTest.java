package io.parley.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.bench.ChaosHistory.Ack;
import io.parley.bench.ChaosHistory.Delivery;
import io.parley.bench.ChaosHistory.Kind;
import io.parley.bench.ChaosHistory.Send;
import io.parley.bench.ChaosHistory.Stored;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The delivery-history checker on synthetic histories: a clean one passes every check, and each
 * planted fault trips exactly its own check with exactly one violation of the expected kind.
 *
 * <p>The clean history: alice (devices a1, a2) and bob (b1) in DM "10"; alice sends m1 (acked 1025,
 * retried once from a1 after a reconnect and acked again with the same id and ts) and bob sends m2
 * (acked 2049). a2 gets both live, b1 gets m1 live, and a1 gets m2 by sync after its reconnect.
 */
class HistoryCheckerTest {

  static final String A1_BODY = ChaosHistory.body("alice", "10", "m1", 40);
  static final String B_BODY = ChaosHistory.body("bob", "10", "m2", 40);

  static ChaosHistory clean() {
    ChaosHistory h = new ChaosHistory();
    h.conversation("10", List.of("alice", "bob"));
    h.device("a1", "alice");
    h.device("a2", "alice");
    h.device("b1", "bob");
    h.add(new Send("alice", "a1", "10", "m1", A1_BODY, 100, false));
    h.add(new Send("bob", "b1", "10", "m2", B_BODY, 110, false));
    h.add(new Ack("alice", "a1", "10", "m1", 1025, 5000, 120));
    h.add(new Ack("bob", "b1", "10", "m2", 2049, 5010, 130));
    h.add(new Send("alice", "a1", "10", "m1", A1_BODY, 3200, true));
    h.add(new Ack("alice", "a1", "10", "m1", 1025, 5000, 3210));
    h.add(live("a2", 1, 1025, "alice", "m1", A1_BODY));
    h.add(live("a2", 1, 2049, "bob", "m2", B_BODY));
    h.add(live("b1", 1, 1025, "alice", "m1", A1_BODY));
    h.add(new Delivery("a1", 2, "10", 2049, "bob", "m2", B_BODY, Kind.SYNC, 3205));
    h.add(new Stored("10", 1025, "alice", "m1", A1_BODY, 5000));
    h.add(new Stored("10", 2049, "bob", "m2", B_BODY, 5010));
    return h;
  }

  static Delivery live(String device, int conn, long id, String from, String msgId, String body) {
    return new Delivery(device, conn, "10", id, from, msgId, body, Kind.LIVE, 200);
  }

  /** Asserts that exactly {@code check} failed, with one violation of {@code kind}. */
  static void onlyFails(ChaosHistory h, String check, String kind) {
    HistoryChecker.Verdict v = HistoryChecker.check(h);
    assertThat(v.clean()).isFalse();
    assertThat(v.failed()).containsExactly(check);
    assertThat(v.check(check).kinds).isEqualTo(Map.of(kind, 1L));
    assertThat(v.check(check).examples).hasSize(1).allSatisfy(e -> assertThat(e).startsWith(kind + ": "));
  }

  @Test
  void aCleanHistoryPassesEveryCheckAndCountsWhatItChecked() {
    HistoryChecker.Verdict v = HistoryChecker.check(clean());
    assertThat(v.clean()).isTrue();
    assertThat(v.failed()).isEmpty();
    assertThat(v.counts).containsEntry("messages_sent", 2L).containsEntry("retries", 1L)
        .containsEntry("acks", 3L).containsEntry("stored", 2L);
    // 2 acked keys; 3 devices x 2 stored messages; 3 live deliveries
    assertThat(v.check(HistoryChecker.STORED_ONCE).checked).isEqualTo(2);
    assertThat(v.check(HistoryChecker.COMPLETE).checked).isEqualTo(6);
    assertThat(v.check(HistoryChecker.LIVE_ORDER).checked).isEqualTo(3);
    JsonObject json = v.toJson();
    assertThat(json.getBoolean("clean")).isTrue();
    assertThat(json.getJsonObject("checks").fieldNames()).containsExactlyElementsOf(HistoryChecker.CHECKS);
  }

  @Test
  void anAckedMessageMissingFromStorageIsLost() {
    ChaosHistory h = clean();
    h.add(new Send("bob", "b1", "10", "m3", ChaosHistory.body("bob", "10", "m3", 40), 400, false));
    h.add(new Ack("bob", "b1", "10", "m3", 3073, 5020, 410));
    onlyFails(h, HistoryChecker.STORED_ONCE, "lost");
  }

  @Test
  void aMessageStoredTwiceIsADuplicate() {
    ChaosHistory h = clean();
    // a second copy of m1 under a later id, and every device has it (so only stored_once trips)
    h.add(new Stored("10", 3073, "alice", "m1", A1_BODY, 5030));
    h.add(new Delivery("a1", 2, "10", 3073, "alice", "m1", A1_BODY, Kind.SYNC, 3300));
    h.add(new Delivery("a2", 1, "10", 3073, "alice", "m1", A1_BODY, Kind.SYNC, 3300));
    h.add(new Delivery("b1", 1, "10", 3073, "alice", "m1", A1_BODY, Kind.SYNC, 3300));
    onlyFails(h, HistoryChecker.STORED_ONCE, "duplicate");
  }

  @Test
  void aRetryAckedWithAnotherIdThanTheStoredOneIsCaughtByBothIdChecks() {
    ChaosHistory h = clean();
    // the planted fault for "every retry acked with the original id": the retry's ack carries a new id
    h.add(new Send("bob", "b1", "10", "m2", B_BODY, 3300, true));
    h.add(new Ack("bob", "b1", "10", "m2", 4097, 6000, 3310));
    HistoryChecker.Verdict v = HistoryChecker.check(h);
    assertThat(v.failed()).containsExactly(HistoryChecker.STORED_ONCE, HistoryChecker.RETRY_SAME_ID);
    assertThat(v.check(HistoryChecker.RETRY_SAME_ID).kinds).isEqualTo(Map.of("different_ack", 1L));
    assertThat(v.check(HistoryChecker.STORED_ONCE).kinds).isEqualTo(Map.of("stored_under_other_id", 1L));
    assertThat(v.check(HistoryChecker.RETRY_SAME_ID).examples.get(0)).contains("bob msg_id m2").contains("4097");
  }

  @Test
  void aRetryAckedWithTheSameIdButAnotherTimestampBreaksOnlyTheRetryCheck() {
    ChaosHistory h = clean();
    h.add(new Ack("alice", "a1", "10", "m1", 1025, 5999, 3400));
    onlyFails(h, HistoryChecker.RETRY_SAME_ID, "different_ack");
  }

  @Test
  void aDeviceThatNeverGotAStoredMessageIsIncomplete() {
    ChaosHistory h = clean();
    h.deliveries.removeIf(d -> d.device().equals("b1"));
    onlyFails(h, HistoryChecker.COMPLETE, "missing");
  }

  @Test
  void aLiveMessageBelowOneBeforeItOnTheSameConnectionIsOutOfOrder() {
    ChaosHistory h = clean();
    // b1 also got m2 live, but before m1: 2049 then 1025 on connection 1
    h.deliveries.removeIf(d -> d.device().equals("b1"));
    h.add(live("b1", 1, 2049, "bob", "m2", B_BODY));
    h.add(live("b1", 1, 1025, "alice", "m1", A1_BODY));
    onlyFails(h, HistoryChecker.LIVE_ORDER, "reorder");
  }

  @Test
  void theSameMessageTwiceLiveOnOneConnectionIsARepeatButOnANewConnectionOrBySyncItIsFine() {
    ChaosHistory h = clean();
    h.add(live("a2", 2, 1025, "alice", "m1", A1_BODY)); // a new connection starts over
    h.add(new Delivery("a2", 2, "10", 1025, "alice", "m1", A1_BODY, Kind.SYNC, 300)); // sync overlaps live
    assertThat(HistoryChecker.check(h).clean()).isTrue();
    h.add(live("a2", 1, 2049, "bob", "m2", B_BODY));
    onlyFails(h, HistoryChecker.LIVE_ORDER, "repeat");
  }

  @Test
  void aDeliveredMessageThatStorageDoesNotHaveIsAPhantom() {
    ChaosHistory h = clean();
    h.add(new Delivery("b1", 1, "10", 9217, "alice", "m1", A1_BODY, Kind.PAGE, 500));
    onlyFails(h, HistoryChecker.NO_PHANTOM, "phantom");
  }

  @Test
  void aMessageDeliveredWithAnotherSenderIsMisattributed() {
    ChaosHistory h = clean();
    h.deliveries.removeIf(d -> d.device().equals("b1"));
    h.add(live("b1", 1, 1025, "mallory", "m1", A1_BODY));
    onlyFails(h, HistoryChecker.NO_PHANTOM, "misattributed");
  }

  @Test
  void aStoredMessageItsSenderNeverSentIsCaught() {
    ChaosHistory h = clean();
    // storage and every device agree on m9 from bob, with a well-formed tag, but bob never sent it
    String body = ChaosHistory.body("bob", "10", "m9", 40);
    h.add(new Stored("10", 5121, "bob", "m9", body, 5050));
    for (String d : List.of("a1", "a2", "b1")) {
      h.add(new Delivery(d, 3, "10", 5121, "bob", "m9", body, Kind.SYNC, 600));
    }
    HistoryChecker.Verdict v = HistoryChecker.check(h);
    assertThat(v.failed()).containsExactly(HistoryChecker.NO_PHANTOM);
    // once as stored, once per device it reached
    assertThat(v.check(HistoryChecker.NO_PHANTOM).kinds).isEqualTo(Map.of("never_sent", 4L));
  }

  @Test
  void theHistoryIsWrittenOneRecordPerLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path f = dir.resolve("history.txt");
    clean().write(f);
    List<String> lines = java.nio.file.Files.readAllLines(f);
    // 3 sends, 3 acks, 4 deliveries, 2 stored
    assertThat(lines).hasSize(12);
    assertThat(lines).filteredOn(l -> l.startsWith("Ack[")).hasSize(3)
        .anySatisfy(l -> assertThat(l).contains("msgId=m1").contains("serverId=1025"));
    assertThat(lines).filteredOn(l -> l.startsWith("Delivery[")).hasSize(4);
  }

  @Test
  void bodyTagsNameSenderConversationAndMsgId() {
    String body = ChaosHistory.body("u-1", "42", "d3-7", 60);
    assertThat(body).hasSize(60);
    assertThat(ChaosHistory.tag(body)).containsExactly("u-1", "42", "d3-7");
    assertThat(ChaosHistory.tag("hello")).isNull();
  }
}
