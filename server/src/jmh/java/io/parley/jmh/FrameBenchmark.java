package io.parley.jmh;

import io.parley.protocol.ChatMessage;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ServerFrames;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** The per-message JSON work of the hot path: decode+validate a send, encode the msg frame and the ack. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FrameBenchmark {
  private final String send = "{\"op\":\"send\",\"msg_id\":\"c0ffee-0001\",\"conv\":\"384808471440134144\",\"body\":\""
      + "x".repeat(100) + "\"}";
  private final ClientFrame.Limits limits = new ClientFrame.Limits(65536, 10, 100, 1000);
  private final ChatMessage message = new ChatMessage(384808471440134144L, 384810148595503109L, "alice", "c0ffee-0001",
      "x".repeat(100), null, 1795812688987L);

  @Benchmark
  public ClientFrame decodeSend() {
    return ClientFrame.parse(ClientFrame.decode(send), limits);
  }

  @Benchmark
  public String encodeMsg() {
    return message.toFrame();
  }

  @Benchmark
  public String encodeAck() {
    return ServerFrames.ack("c0ffee-0001", 384808471440134144L, 384810148595503109L, 1795812688987L);
  }
}
