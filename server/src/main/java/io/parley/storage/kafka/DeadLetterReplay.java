package io.parley.storage.kafka;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The operator's replay of parked records ({@code scripts/replay-dead}): reads the dead-letter
 * topic {@code <topic>.dead} from its beginning to its end as of the start (no consumer group, no
 * commits: the topic stays the record of what was parked), lists each parked record, and — unless
 * {@code --dry-run} — writes its value again to the message log under its own key, so it lands in
 * its conversation's partition, after everything logged since. Routing then persists it anew (with
 * a new server id) and delivers it; replaying a record twice stores and delivers it once, since
 * routing's dedupe on (sender, msg id) resolves the second copy to the first.
 *
 * <p>A command-line tool, not part of a node: it blocks its own thread.
 */
public final class DeadLetterReplay {
  private static final Duration POLL = Duration.ofMillis(500);

  private DeadLetterReplay() {}

  /** What a run found and did. */
  public record Result(List<KafkaRecords.DeadLetter> listed, int replayed, int skipped) {}

  /**
   * Lists (and unless {@code dryRun} replays) the parked records of {@code topic}; {@code only}, when
   * not empty, keeps those whose original position ({@code partition:offset}, as the parking log
   * line names it) it holds.
   */
  public static Result run(String bootstrap, String topic, boolean dryRun, Set<String> only, Duration timeout,
      PrintStream out) throws InterruptedException, ExecutionException {
    String dead = KafkaTopics.deadLetters(topic);
    Map<String, Object> consumerConfig = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
        ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
        (int) timeout.toMillis());
    List<KafkaRecords.DeadLetter> listed = new ArrayList<>();
    int skipped = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(),
        new StringDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(dead, timeout)) {
        partitions.add(new TopicPartition(dead, p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, timeout));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("could not read " + dead + " to its end within " + timeout);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(POLL)) {
          KafkaRecords.DeadLetter d;
          try {
            d = KafkaRecords.DeadLetter.decode(r.value());
          } catch (IllegalArgumentException e) {
            out.printf("%s-%d@%d: not a dead letter, skipped: %s%n", dead, r.partition(), r.offset(), e.getMessage());
            skipped++;
            continue;
          }
          if (!only.isEmpty() && !only.contains(d.partition() + ":" + d.offset())) {
            continue;
          }
          listed.add(d);
        }
      }
    }
    for (KafkaRecords.DeadLetter d : listed) {
      String who;
      try {
        var m = d.logged().message();
        who = "conversation " + m.conv() + ", sender " + m.from() + ", msg_id " + m.msgId();
      } catch (IllegalArgumentException e) {
        who = "undecodable record";
      }
      out.printf("%s %d:%d (%s) parked %s after %d attempts: %s%n", d.topic(), d.partition(), d.offset(), who,
          Instant.ofEpochMilli(d.parkedAt()), d.attempts(), d.error());
    }
    if (dryRun || listed.isEmpty()) {
      out.printf("%d parked records listed%s%n", listed.size(), dryRun ? " (dry run: nothing replayed)" : "");
      return new Result(List.copyOf(listed), 0, skipped);
    }
    Map<String, Object> producerConfig = new HashMap<>(KafkaMessageLog.producerConfig(bootstrap, timeout.toMillis()));
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
        new StringSerializer())) {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (KafkaRecords.DeadLetter d : listed) {
        // as a possible retry (its first-attempt flag dropped): a record replayed twice is then stored once
        sent.add(producer.send(new ProducerRecord<>(topic, d.key(), KafkaRecords.withoutFirst(d.record()))));
      }
      producer.flush();
      for (int i = 0; i < sent.size(); i++) {
        RecordMetadata md = sent.get(i).get();
        out.printf("replayed %d:%d as %s-%d@%d%n", listed.get(i).partition(), listed.get(i).offset(), topic,
            md.partition(), md.offset());
      }
      producer.close(Duration.ofMillis(timeout.toMillis()));
    }
    out.printf("%d parked records replayed to %s%n", listed.size(), topic);
    return new Result(List.copyOf(listed), listed.size(), skipped);
  }

  private static boolean caughtUp(KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> end) {
    end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
    return end.isEmpty();
  }

  private static final String USAGE = """
      usage: replay-dead [--bootstrap HOST:PORT] [--topic TOPIC] [--dry-run] [--record PARTITION:OFFSET]... [--timeout-ms MS]
        Lists the records parked in TOPIC.dead and writes them back to TOPIC (its conversation's partition).
        --bootstrap   Kafka brokers (default 127.0.0.1:9092, or PARLEY_KAFKA_BOOTSTRAP)
        --topic       the message log (default parley.messages, or PARLEY_KAFKA_TOPIC)
        --dry-run     list only
        --record      only the parked record that was at PARTITION:OFFSET of TOPIC (as its ERROR log names it); repeatable
        --timeout-ms  bound of each Kafka call and of reading the dead-letter topic (default 30000)
      Exit: 0 done, 1 failed, 2 usage.""";

  public static void main(String[] args) {
    String bootstrap = envOr("PARLEY_KAFKA_BOOTSTRAP", "127.0.0.1:9092");
    String topic = envOr("PARLEY_KAFKA_TOPIC", "parley.messages");
    boolean dryRun = false;
    long timeoutMs = 30_000;
    Set<String> only = new HashSet<>();
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--bootstrap" -> bootstrap = args[++i];
          case "--topic" -> topic = args[++i];
          case "--dry-run" -> dryRun = true;
          case "--record" -> {
            String r = args[++i];
            if (!r.matches("\\d+:\\d+")) {
              throw new IllegalArgumentException("--record wants PARTITION:OFFSET, not " + r);
            }
            only.add(r);
          }
          case "--timeout-ms" -> timeoutMs = Long.parseLong(args[++i]);
          case "-h", "--help" -> {
            System.out.println(USAGE);
            System.exit(0);
          }
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (timeoutMs < 1) {
        throw new IllegalArgumentException("--timeout-ms must be positive");
      }
    } catch (RuntimeException e) {
      System.err.println("replay-dead: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
    try {
      run(bootstrap, topic, dryRun, only, Duration.ofMillis(timeoutMs), System.out);
      System.exit(0);
    } catch (Exception e) {
      System.err.println("replay-dead: failed: " + e);
      System.exit(1);
    }
  }

  private static String envOr(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
