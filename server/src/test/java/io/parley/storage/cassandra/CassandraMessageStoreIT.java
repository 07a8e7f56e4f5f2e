package io.parley.storage.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.parley.history.MessageStore;
import io.parley.history.MessageStoreContract;
import io.parley.protocol.ChatMessage;
import io.parley.routing.MessageLog.NewMessage;
import io.parley.testing.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link MessageStoreContract} against {@link CassandraMessageStore}, writing through
 * {@link CassandraMessageArchive} as routing does: each message gets its server id first (as the
 * log gives it), then is persisted. The archive here uses one-hour buckets and a clock the
 * contract moves on ({@link #passTime}), so its cases across time span many buckets with empty
 * ones between; the ids (snowflakes of the real clock) say nothing of that time, as Kafka
 * positions do not.
 */
class CassandraMessageStoreIT extends MessageStoreContract {
  private static final long BUCKET_MS = Duration.ofHours(1).toMillis();
  private static final AtomicLong SKEW = new AtomicLong();
  private static CassandraFixture cassandra;
  private static CassandraMessageArchive archive;

  @BeforeAll
  static void start() throws Exception {
    cassandra = new CassandraFixture();
    archive = Await.result(CassandraMessageArchive.create(cassandra.client, cassandra.names, BUCKET_MS,
        CassandraMessageArchive.DEFAULT_DEDUPE_TTL_S));
  }

  @AfterAll
  static void stop() throws Exception {
    if (cassandra != null) {
      cassandra.close();
    }
  }

  @Override
  protected MessageStore store() {
    return cassandra.messages;
  }

  @Override
  protected void passTime(Duration d) {
    SKEW.addAndGet(d.toMillis());
  }

  @Override
  protected List<ChatMessage> write(List<NewMessage> messages) throws Exception {
    List<ChatMessage> batch = new ArrayList<>(messages.size());
    for (NewMessage m : messages) {
      batch.add(new ChatMessage(m.conv(), cassandra.ids.next(), m.from(), m.msgId(), m.body(), m.media(),
          System.currentTimeMillis() + SKEW.get()));
    }
    assertThat(Await.result(archive.persist(batch))).containsExactlyElementsOf(batch);
    return batch;
  }

  @Test
  void messagesFarApartInTimeLiveInBucketsOfTheirTimeFoundThroughOneSegmentEach() throws Exception {
    long conv = newConv();
    List<Long> buckets = new ArrayList<>();
    for (Duration gap : List.of(Duration.ofHours(3), Duration.ofDays(12), Duration.ofMinutes(0), Duration.ofHours(1))) {
      ChatMessage m = write(List.of(new NewMessage("alice", "b-" + conv + "-" + buckets.size(), conv, "x", null))).get(0);
      long bucket = CassandraMessageArchive.bucketOf(m.ts(), BUCKET_MS);
      if (buckets.isEmpty() || buckets.get(buckets.size() - 1) != bucket) {
        buckets.add(bucket);
      }
      passTime(gap);
    }
    var segments = Await.result(cassandra.client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT bucket FROM " + cassandra.names.messageBuckets() + " WHERE conversation_id = ?", conv)));
    List<Long> newestFirst = new ArrayList<>(buckets);
    Collections.reverse(newestFirst);
    assertThat(buckets).hasSize(3);
    assertThat(segments).extracting(r -> r.getLong("bucket")).containsExactlyElementsOf(newestFirst);
    for (long bucket : buckets) {
      var rows = Await.result(cassandra.client.executeWithFullFetch(SimpleStatement.newInstance(
          "SELECT message_id FROM " + cassandra.names.messagesByBucket() + " WHERE conversation_id = ? AND bucket = ?",
          conv, bucket)));
      assertThat(rows).as("bucket %d", bucket).isNotEmpty();
    }
  }

  @Test
  void aMessageStampedBeforeTheNewestBucketStaysInIt() throws Exception {
    // gateway clocks differ: a message logged after one of the next bucket, stamped just before it
    long conv = newConv();
    ChatMessage late = write(List.of(new NewMessage("alice", "late-" + conv, conv, "first", null))).get(0);
    long next = CassandraMessageArchive.bucketOf(late.ts(), BUCKET_MS) + BUCKET_MS;
    ChatMessage after = new ChatMessage(conv, cassandra.ids.next(), "bob", "n-" + conv, "next bucket", null, next + 5);
    ChatMessage skewed = new ChatMessage(conv, cassandra.ids.next(), "carol", "s-" + conv, "stamped early", null, next - 5);
    assertThat(Await.result(archive.persist(List.of(after)))).containsExactly(after);
    assertThat(Await.result(archive.persist(List.of(skewed)))).containsExactly(skewed);

    assertThat(Await.result(store().after(conv, 0, 10)).messages()).extracting(m -> m.serverId())
        .containsExactly(late.serverId(), after.serverId(), skewed.serverId());
    assertThat(Await.result(store().get(conv, skewed.serverId()))).isPresent();
    var inNext = Await.result(cassandra.client.executeWithFullFetch(SimpleStatement.newInstance(
        "SELECT message_id FROM " + cassandra.names.messagesByBucket() + " WHERE conversation_id = ? AND bucket = ?",
        conv, next)));
    assertThat(inNext).extracting(r -> r.getLong("message_id")).containsExactly(skewed.serverId(), after.serverId());
  }
}
