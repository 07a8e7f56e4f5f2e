package io.parley.storage.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource.Logged;
import io.parley.routing.MessageLog.NewMessage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The record format: key, value layout, and that the writer's ack and the reader agree. Needs no broker. */
class KafkaRecordsTest {

  @Test
  void aParkedRecordKeepsItsValueWhereItWasAndWhy() {
    NewMessage m = new NewMessage("alice", "m-1", 42, "hello", new JsonArray().add("https://x/1.png"), "conn-7");
    Logged read = KafkaRecords.decode(2, 17, KafkaRecords.encode(m, 1_700_000_000_000L, "node-a"));
    KafkaRecords.DeadLetter d = new KafkaRecords.DeadLetter("parley.messages", 2, 17, KafkaRecords.key(42),
        KafkaRecords.encode(read), "refused by storage: x", 3, 1_700_000_001_000L);

    KafkaRecords.DeadLetter back = KafkaRecords.DeadLetter.decode(d.encode());

    assertThat(back).isEqualTo(d);
    assertThat(back.logged()).as("the parked value reads back as the record routing read").isEqualTo(read);
    assertThat(KafkaRecords.decode(0, 99, back.record()).message().toFrame())
        .as("replayed elsewhere, only the id changes")
        .isEqualTo(new ChatMessage(42, KafkaIds.serverId(0, 99), "alice", "m-1", "hello",
            new JsonArray().add("https://x/1.png"), 1_700_000_000_000L).toFrame());
    assertThatThrownBy(() -> KafkaRecords.DeadLetter.decode("{\"topic\":\"t\"}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KafkaRecords.DeadLetter.decode("not json")).isInstanceOf(IllegalArgumentException.class);
  }
  private static final long CONV = 9_007_199_254_740_993L; // beyond 2^53: must survive as a string

  @Test
  void keyIsTheConversationInDecimal() {
    assertThat(KafkaRecords.key(CONV)).isEqualTo("9007199254740993");
  }

  @Test
  void valueIsTheMessageWithoutAnId() {
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/1.png"));
    String value = KafkaRecords.encode(new NewMessage("alice", "m-1", CONV, "hi", media), 1_700_000_000_123L);
    assertThat(new JsonObject(value)).isEqualTo(new JsonObject()
        .put("conv", "9007199254740993").put("from", "alice").put("msg_id", "m-1").put("body", "hi")
        .put("media", media).put("ts", 1_700_000_000_123L));
    assertThat(new JsonObject(KafkaRecords.encode(new NewMessage("a", "b", 1, "c", null), 5)).getJsonArray("media"))
        .isEmpty();
  }

  @Test
  void theSendingConnectionTravelsWithTheRecord() {
    String value = KafkaRecords.encode(new NewMessage("alice", "m-3", CONV, "hi", null, "node-2-17-phone"), 7L);
    assertThat(new JsonObject(value).getString("conn")).isEqualTo("node-2-17-phone");
    assertThat(KafkaRecords.decode(0, 0, value).connectionId()).isEqualTo("node-2-17-phone");
    assertThat(KafkaRecords.decode(0, 0, KafkaRecords.encode(new NewMessage("alice", "m-4", CONV, "hi", null), 7L))
        .connectionId()).isNull();
  }

  @Test
  void theFirstAttemptFlagTravelsWithTheRecordAndAReplayDropsIt() {
    for (Boolean first : new Boolean[] {true, false}) {
      String value = KafkaRecords.encode(new NewMessage("alice", "m-5", CONV, "hi", null, "c", first), 7L, "node-a");
      Logged read = KafkaRecords.decode(1, 2, value);
      assertThat(read.first()).isEqualTo(first);
      assertThat(KafkaRecords.decode(1, 3, KafkaRecords.encode(read)).first()).as("written again").isEqualTo(first);
      Logged replayed = KafkaRecords.decode(1, 4, KafkaRecords.withoutFirst(value));
      assertThat(replayed.first()).as("replayed: a possible retry").isNull();
      assertThat(replayed.message().toFrame()).isEqualTo(KafkaRecords.decode(1, 4, value).message().toFrame());
      assertThat(replayed.via()).isEqualTo("node-a");
    }
    String unflagged = KafkaRecords.encode(new NewMessage("alice", "m-6", CONV, "hi", null), 7L);
    assertThat(new JsonObject(unflagged).containsKey("first")).isFalse();
    assertThat(KafkaRecords.decode(0, 0, unflagged).first()).isNull();
    assertThat(KafkaRecords.withoutFirst(unflagged)).isSameAs(unflagged);
    assertThat(KafkaRecords.withoutFirst("not json")).isEqualTo("not json");
  }

  @Test
  void readerSeesWhatTheWriterAcked() {
    String body = "héllo \uD83D\uDE00 \"q\" \\ \n \u0000end";
    JsonArray media = new JsonArray().add(new JsonObject().put("w", 640).put("ratio", 1.5).putNull("n"));
    NewMessage m = new NewMessage("alice", "m-2", CONV, body, media);
    String value = KafkaRecords.encode(m, 42L);

    ChatMessage acked = KafkaRecords.message(m, 42L, 3, 17);
    Logged read = KafkaRecords.decode(3, 17, value);

    assertThat(read.partition()).isEqualTo(3);
    assertThat(read.offset()).isEqualTo(17);
    assertThat(read.message()).isEqualTo(acked);
    assertThat(read.message().serverId()).isEqualTo(KafkaIds.serverId(3, 17));
    assertThat(read.message().toFrame()).isEqualTo(acked.toFrame());
    assertThat(read.message().body()).isEqualTo(body);
    assertThat(read.message().conv()).isEqualTo(CONV);
  }

  @Test
  void withoutMediaBothSidesHaveAnEmptyList() {
    NewMessage m = new NewMessage("alice", "m-3", 7, "x", null);
    assertThat(KafkaRecords.message(m, 1, 0, 0).media()).isEqualTo(new JsonArray());
    assertThat(KafkaRecords.decode(0, 0, KafkaRecords.encode(m, 1)).message().media()).isEqualTo(new JsonArray());
  }

  @Test
  void somethingThatIsNotAMessageIsRejected() {
    String good = KafkaRecords.encode(new NewMessage("alice", "m-4", 7, "x", null), 1);
    for (String bad : new String[] {null, "", "not json", "[1]", "{}",
        new JsonObject(good).put("conv", 7).encode(),
        new JsonObject(good).put("conv", "seven").encode(),
        new JsonObject(good).put("from", 5).encode(),
        new JsonObject(good).putNull("msg_id").encode(),
        new JsonObject(good).put("body", new JsonObject()).encode(),
        new JsonObject(good).put("ts", "yesterday").encode(),
        new JsonObject(good).put("media", "none").encode(),
        removed(good, "ts")}) {
      assertThatThrownBy(() -> KafkaRecords.decode(0, 0, bad)).as("value %s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> KafkaRecords.decode(1024, 0, good)).as("partition beyond the id range")
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static String removed(String json, String field) {
    JsonObject o = new JsonObject(json);
    o.remove(field);
    return o.encode();
  }
}
