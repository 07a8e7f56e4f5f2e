import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.*;
import java.net.InetSocketAddress;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.serialization.*;

/**
 * The servers' own CPU per minimal write on this machine (scripts/floor): Cassandra per row, Kafka per
 * record, read from /proc/PID/stat of the server before and after a paced run (after a warm-up of a
 * quarter of its length), and this JVM's own CPU over the same run: the drivers' side of it. Run with the jar's
 * drivers on the class path: java -cp target/parley.jar scripts/floor.java cassandra|kafka PID RATE SECONDS [BATCH].
 */
class Floor {
  /** /proc counts CPU in clock ticks, 100 per second on Linux (USER_HZ). */
  static final long TCK = 100;
  static double cpu(long pid) throws Exception {
    String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) TCK;
  }
  /** This JVM's own CPU (the drivers' side), in seconds. */
  static double selfCpu() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime() / 1e9;
  }

  public static void main(String[] a) throws Exception {
    String what = a[0]; long pid = Long.parseLong(a[1]); int rate = Integer.parseInt(a[2]); int secs = Integer.parseInt(a[3]);
    String frame = "{\"op\":\"msg\",\"conv\":\"123456789\",\"id\":\"987654321\",\"from\":\"u123\",\"ts\":1700000000000,\"msg_id\":\"12345\",\"body\":\"" + "x".repeat(100) + "\"}";
    if (what.startsWith("cass")) {
      int perBatch = Integer.parseInt(a[4]);
      try (CqlSession s = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", 9042)).withLocalDatacenter("datacenter1").build()) {
        // schema changes wait for agreement: longer than a request's default 2 s on a busy machine
        s.execute(SimpleStatement.newInstance("CREATE KEYSPACE IF NOT EXISTS floor_ks WITH replication = {'class':'SimpleStrategy','replication_factor':1}").setTimeout(java.time.Duration.ofSeconds(60)));
        s.execute(SimpleStatement.newInstance("CREATE TABLE IF NOT EXISTS floor_ks.m (conversation_id bigint, bucket bigint, message_id bigint, sender text, client_msg_id text, frame text, PRIMARY KEY ((conversation_id, bucket), message_id))").setTimeout(java.time.Duration.ofSeconds(60)));
        PreparedStatement p = s.prepare("INSERT INTO floor_ks.m (conversation_id, bucket, message_id, sender, client_msg_id, frame) VALUES (?,?,?,?,?,?)");
        Semaphore inflight = new Semaphore(256);
        long period = 1_000_000_000L * perBatch / rate; long n = (long) rate * secs / perBatch;
        long id = System.nanoTime();
        // a warm-up of a quarter of the run first: the driver's side is measured compiled
        for (int phase = 0; phase < 2; phase++) {
        long phaseN = phase == 0 ? n / 4 : n;
        double c0 = cpu(pid); double s0 = selfCpu(); long t0 = System.nanoTime();
        for (long i = 0; i < phaseN; i++) {
          long due = t0 + i * period; for (long w; (w = due - System.nanoTime()) > 0; ) { java.util.concurrent.locks.LockSupport.parkNanos(w); }
          BatchStatementBuilder b = BatchStatement.builder(DefaultBatchType.UNLOGGED);
          Statement<?> st;
          if (perBatch == 1) { st = p.bind(id % 500, 1L, id++, "u1", "m" + id, frame); }
          else { for (int j = 0; j < perBatch; j++) { b.addStatement(p.bind(id % 500, 1L, id++, "u1", "m" + id, frame)); } st = b.build(); }
          inflight.acquire();
          s.executeAsync(st).whenComplete((r, e) -> { inflight.release(); if (e != null) System.err.println(e); });
        }
        inflight.acquire(256);
        inflight.release(256);
        double c = cpu(pid) - c0; double self = selfCpu() - s0; double wall = (System.nanoTime() - t0) / 1e9;
        if (phase == 1) {
          System.out.printf("cassandra rows=%d perBatch=%d rate=%d rows/s wall=%.1f s cpu=%.2f s -> %.1f us per row (the driver's side: %.1f us per row)%n",
              n * perBatch, perBatch, rate, wall, c, c * 1e6 / (n * perBatch), self * 1e6 / (n * perBatch));
        }
        }
      }
    } else {
      Properties pp = new Properties();
      pp.put("bootstrap.servers", "127.0.0.1:9092"); pp.put("acks", "all"); pp.put("enable.idempotence", "true"); pp.put("linger.ms", "1");
      pp.put("key.serializer", StringSerializer.class.getName()); pp.put("value.serializer", StringSerializer.class.getName());
      Properties cp = new Properties();
      cp.put("bootstrap.servers", "127.0.0.1:9092"); cp.put("group.id", "floor-" + System.nanoTime()); cp.put("auto.offset.reset", "latest");
      cp.put("key.deserializer", StringDeserializer.class.getName()); cp.put("value.deserializer", StringDeserializer.class.getName());
      String topic = "floor-topic";
      try (KafkaProducer<String, String> prod = new KafkaProducer<>(pp); KafkaConsumer<String, String> cons = new KafkaConsumer<>(cp)) {
        prod.send(new ProducerRecord<>(topic, "k", "warm")).get();
        cons.subscribe(List.of(topic));
        long[] got = {0};
        Thread ct = new Thread(() -> { while (!Thread.currentThread().isInterrupted()) { try { got[0] += cons.poll(java.time.Duration.ofMillis(100)).count(); cons.commitAsync(); } catch (org.apache.kafka.common.errors.InterruptException e) { break; } } });
        while (cons.assignment().isEmpty()) { cons.poll(java.time.Duration.ofMillis(100)); }
        ct.start();
        long period = 1_000_000_000L / rate; long n = (long) rate * secs;
        double c = 0, self = 0, wall = 0;
        for (int phase = 0; phase < 2; phase++) {
          long phaseN = phase == 0 ? n / 4 : n;
          double c0 = cpu(pid); double s0 = selfCpu(); long t0 = System.nanoTime();
          for (long i = 0; i < phaseN; i++) {
            long due = t0 + i * period; for (long w; (w = due - System.nanoTime()) > 0; ) { java.util.concurrent.locks.LockSupport.parkNanos(w); }
            prod.send(new ProducerRecord<>(topic, "conv" + (i % 500), frame));
          }
          prod.flush();
          c = cpu(pid) - c0; self = selfCpu() - s0; wall = (System.nanoTime() - t0) / 1e9;
        }
        ct.interrupt(); ct.join();
        System.out.printf("kafka records=%d rate=%d/s wall=%.1f s cpu=%.2f s -> %.1f us per record (the clients' side, producer and consumer: %.1f us per record; consumed %d)%n",
            n, rate, wall, c, c * 1e6 / n, self * 1e6 / n, got[0]);
      }
    }
  }
}
