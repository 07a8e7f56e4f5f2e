package io.parley.storage.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog;
import io.parley.routing.MessageLog.Appended;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.routing.MessageLogContract;
import io.parley.testing.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link MessageLogContract} against {@link RocksMessageStore}, plus what only a durable
 * adapter can show: dedupe, stored messages and id order survive closing and reopening the
 * storage; the id floor covers every appended id; a duplicate is not stored twice.
 */
class RocksMessageLogTest extends MessageLogContract {
  @TempDir
  Path dir;
  private RocksFixture rocks;

  @BeforeEach
  void setUp() {
    rocks = new RocksFixture(dir);
  }

  @AfterEach
  void tearDown() throws Exception {
    rocks.close();
  }

  @Override
  protected io.parley.history.MessageStore readBack() {
    return rocks.messages;
  }

  @Override
  protected MessageLog log() {
    return rocks.messages;
  }

  @Test
  void dedupeSurvivesReopen() throws Exception {
    long conv = newConv();
    JsonArray media = new JsonArray().add(new JsonObject().put("url", "https://x/z.png"));
    NewMessage m = new NewMessage("alice", newMsgId(), conv, "durable", media);
    ChatMessage original = append(m, msg("bob", conv, "other")).get(0).message();

    rocks.reopen();

    List<Appended> out = append(msg("carol", conv, "after restart"), m);
    assertThat(out.get(1).duplicate()).isTrue();
    assertThat(out.get(1).message().serverId()).isEqualTo(original.serverId());
    assertThat(out.get(1).message().toFrame()).isEqualTo(original.toFrame());
    assertThat(out.get(1).frame()).isEqualTo(original.toFrame());
    assertThat(out.get(1).message().media()).isEqualTo(media);
    assertThat(out.get(0).duplicate()).isFalse();
    assertThat(out.get(0).message().serverId()).isGreaterThan(original.serverId());
  }

  @Test
  void idsKeepIncreasingAfterReopen() throws Exception {
    long conv = newConv();
    List<Appended> first = append(msg("alice", conv, "1"), msg("alice", conv, "2"));
    long last = first.get(1).message().serverId();
    assertThat(rocks.storage.idFloor()).isGreaterThanOrEqualTo(last);

    rocks.reopen();

    assertThat(rocks.storage.idFloor()).isGreaterThanOrEqualTo(last);
    assertThat(append(msg("alice", conv, "3")).get(0).message().serverId()).isGreaterThan(last);
  }

  @Test
  void messagesSurviveReopen() throws Exception {
    long conv = newConv();
    Appended a = append(msg("alice", conv, "kept")).get(0);
    rocks.reopen();
    assertThat(Await.result(rocks.messages.get(conv, a.message().serverId()))).get()
        .satisfies(s -> assertThat(s.frame()).isEqualTo(a.frame()));
  }

  @Test
  void allDuplicateBatchLeavesTheFloorAlone() throws Exception {
    long conv = newConv();
    NewMessage m = msg("alice", conv, "x");
    long id = append(m).get(0).message().serverId();
    long floor = rocks.storage.idFloor();
    assertThat(append(m, m).get(1).message().serverId()).isEqualTo(id);
    assertThat(rocks.storage.idFloor()).isEqualTo(floor);
  }

  @Test
  void onlyTheMessagesFamilyInsertsWithAPerConversationHintAndOnlyTheDedupeFamilyHashesAndFiltersItsMemtable() throws Exception {
    // RocksDB writes the options it actually applied to an OPTIONS file; the hint is set through an
    // option string (RocksJava has no setter), so a typo there would silently drop it
    Path options;
    try (var files = java.nio.file.Files.list(dir.resolve("rocksdb"))) {
      options = files.filter(f -> f.getFileName().toString().startsWith("OPTIONS-")).max(Path::compareTo).orElseThrow();
    }
    String text = java.nio.file.Files.readString(options);
    String messages = text.substring(text.indexOf("[CFOptions \"messages\"]"));
    messages = messages.substring(0, messages.indexOf("[TableOptions"));
    String dedupe = text.substring(text.indexOf("[CFOptions \"dedupe\"]"));
    dedupe = dedupe.substring(0, dedupe.indexOf("[TableOptions"));

    assertThat(messages).contains("memtable_insert_with_hint_prefix_extractor=rocksdb.FixedPrefix.8");
    assertThat(dedupe).contains("memtable_insert_with_hint_prefix_extractor=nullptr");
    // only the dedupe family, whose look-ups nearly all miss, filters its memtable
    assertThat(dedupe).contains("memtable_whole_key_filtering=true").contains("memtable_prefix_bloom_size_ratio=0.050000");
    assertThat(messages).contains("memtable_whole_key_filtering=false").contains("memtable_prefix_bloom_size_ratio=0.000000");
    // only the dedupe family, which is only ever read by whole key, hashes its memtable on the
    // whole key instead of inserting each random key into a skip list
    assertThat(dedupe).contains("prefix_extractor=rocksdb.CappedPrefix.321")
        .contains("memtable_factory={id=HashLinkListRepFactory;").contains("bucket_count=262144;");
    assertThat(messages).contains("memtable_factory=SkipListFactory").contains("prefix_extractor=nullptr");
    // otherwise the two families are set up alike
    assertThat(messages).contains("write_buffer_size=134217728");
    assertThat(dedupe).contains("write_buffer_size=134217728");
  }
}
