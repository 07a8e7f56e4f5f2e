package io.parley.routing;

import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutStats;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The fan-out of hot conversations, split by recipient over the live nodes (cluster profile;
 * {@code routing.hot_group_members}, {@code routing.hot_fanout_shards}). Owned by one routing
 * verticle (not thread-safe).
 *
 * <p>What grows with a group is its fan-out (registry look-ups, per-node deliveries and push
 * hand-off for every member, per message), not its log or storage (one record, one row, one verdict
 * per message), and all of it ran on the one node routing the conversation's partition. So a
 * conversation with more than {@code threshold} members has its recipients split into {@code
 * shards} sub-partitions by a stable hash of the user id ({@link #shardOf}), and sub-partition
 * {@code k} is fanned out by node {@code k mod n} of the sorted live node ids ({@link #nodeFor}).
 * The log is not split: server ids stay one order per conversation (see docs/protocol.md,
 * "Delivery semantics", for what a client sees).
 *
 * <p>A node that did not confirm a part is left out of the assignment for {@link #AVOID_NANOS}
 * ({@link #unconfirmed}): its sub-partitions go to the other live nodes meanwhile, so a stopped
 * node costs routing one request timeout, not one per batch until the cluster drops it.
 */
public final class HotFanout {
  static final long AVOID_NANOS = 30_000_000_000L;

  /**
   * This node's id and the live nodes' ids (any order), as the cluster manager names them.
   *
   * @param live called once per routed batch with a hot conversation; must not block
   */
  public record Nodes(String self, Supplier<List<String>> live) {
    /** One node: everything is fanned out locally. */
    public static Nodes single(String self) {
      List<String> only = List.of(self);
      return new Nodes(self, () -> only);
    }
  }

  private final int threshold;
  private final int shards;
  private final Nodes nodes;
  private final FanoutStats stats;
  private final int requestChars;
  private final Map<Long, Split> splits;
  private final Map<String, Long> avoidUntil = new HashMap<>();

  /**
   * @param threshold a conversation with more members than this is hot; 0: none is
   * @param shards sub-partitions of a hot conversation's recipients
   * @param cacheMax hot conversations whose split is cached (least recently used dropped first)
   * @param requestChars the most characters of frames, previews and user ids in one request to
   *     another node's fan-out ({@code fanout.remote_request_chars}, see {@link #requests})
   */
  public HotFanout(int threshold, int shards, Nodes nodes, FanoutStats stats, int cacheMax, int requestChars) {
    if (threshold < 0 || shards < 1 || cacheMax < 1 || requestChars < 1) {
      throw new IllegalArgumentException("threshold " + threshold + ", shards " + shards + ", cacheMax " + cacheMax
          + ", requestChars " + requestChars);
    }
    this.requestChars = requestChars;
    this.threshold = threshold;
    this.shards = shards;
    this.nodes = nodes;
    this.stats = stats;
    this.splits = new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Split> eldest) {
        return size() > cacheMax;
      }
    };
  }

  /** Everything local: one node, nothing hot. */
  public static HotFanout off(String self) {
    return new HotFanout(0, 1, Nodes.single(self), new FanoutStats(), 1, Integer.MAX_VALUE);
  }

  public String self() {
    return nodes.self();
  }

  public FanoutStats stats() {
    return stats;
  }

  boolean hot(Collection<String> members) {
    return threshold > 0 && members.size() > threshold;
  }

  /**
   * The sub-partition of a user: a hash of the id's UTF-16 code units that every node and JVM
   * computes alike ({@link String#hashCode} is specified), mixed so that similar ids spread.
   */
  static int shardOf(String user, int shards) {
    int h = user.hashCode() * 0x9E3779B9;
    return Math.floorMod(h ^ (h >>> 16), shards);
  }

  /** The members in {@code shards} sub-partitions, each in the members' iteration order. */
  static List<List<String>> split(Collection<String> members, int shards) {
    List<List<String>> out = new ArrayList<>(shards);
    for (int k = 0; k < shards; k++) {
      out.add(new ArrayList<>(members.size() / shards + 1));
    }
    for (String user : members) {
      out.get(shardOf(user, shards)).add(user);
    }
    return out;
  }

  /** The node fanning out sub-partition {@code shard}: node {@code shard mod n} of the sorted ids. */
  static String nodeFor(int shard, List<String> sortedNodes) {
    return sortedNodes.get(shard % sortedNodes.size());
  }

  /**
   * The batch's fan-outs per node that fans them out, each list in the batch's order; this node's
   * part under {@link #self()}. A fan-out that is not hot goes whole to this node; a hot one is cut
   * into one fan-out per node, naming the recipients of that node's sub-partitions (empty parts
   * left out). Without any hot fan-out: the batch itself, under {@link #self()}.
   */
  Map<String, List<Fanout>> assign(List<Fanout> fanouts, long nowNanos) {
    boolean any = false;
    for (Fanout f : fanouts) {
      if (hot(f.recipients())) {
        any = true;
        break;
      }
    }
    String self = nodes.self();
    if (!any) {
      return Map.of(self, fanouts);
    }
    List<String> usable = usable(nowNanos);
    Map<String, List<Fanout>> out = new LinkedHashMap<>();
    for (Fanout f : fanouts) {
      if (!hot(f.recipients())) {
        out.computeIfAbsent(self, k -> new ArrayList<>()).add(f);
        continue;
      }
      stats.hotMessages(1);
      splitOf(f.conv(), f.recipients(), usable).byNode.forEach((node, users) ->
          out.computeIfAbsent(node, k -> new ArrayList<>()).add(new Fanout(f.conv(), f.serverId(), f.from(), f.frame(),
              users, f.skipConnection(), f.preview(), f.prev())));
    }
    return out;
  }

  /**
   * A node's part cut, in order, into requests of at most the configured characters each (a
   * fan-out larger than that alone; a fan-out is never cut): a polled batch of a 5,000-member group
   * would otherwise be one event-bus message of megabytes, holding the connection to that node.
   * Sent one after another from one event loop, they reach that node's fan-out in this order.
   */
  List<List<Fanout>> requests(List<Fanout> part) {
    return requests(part, requestChars);
  }

  static List<List<Fanout>> requests(List<Fanout> part, int budgetChars) {
    List<List<Fanout>> out = new ArrayList<>(1);
    List<Fanout> open = new ArrayList<>();
    long chars = 0;
    for (Fanout f : part) {
      long size = f.frame().length() + (f.preview() == null ? 0 : f.preview().length());
      for (String user : f.recipients()) {
        size += user.length() + 1;
      }
      if (!open.isEmpty() && chars + size > budgetChars) {
        out.add(open);
        open = new ArrayList<>();
        chars = 0;
      }
      open.add(f);
      chars += size;
    }
    if (!open.isEmpty()) {
      out.add(open);
    }
    return out;
  }

  /** A node did not confirm its part: leave it out of the assignment for a while. */
  void unconfirmed(String node, long nowNanos) {
    if (!node.equals(nodes.self())) {
      avoidUntil.put(node, nowNanos + AVOID_NANOS);
    }
  }

  /** The live nodes, sorted, without those avoided; this node always among them. */
  List<String> usable(long nowNanos) {
    List<String> live = new ArrayList<>(nodes.live().get());
    for (Iterator<Map.Entry<String, Long>> it = avoidUntil.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> e = it.next();
      if (nowNanos - e.getValue() >= 0) {
        it.remove();
      } else {
        live.remove(e.getKey());
      }
    }
    if (!live.contains(nodes.self())) {
      live.add(nodes.self());
    }
    live.sort(null);
    return live;
  }

  /** The cached split of a member set over the nodes, recomputed when either changed. */
  private Split splitOf(long conv, Collection<String> members, List<String> sortedNodes) {
    Split s = splits.get(conv);
    if (s != null && s.members == members && s.nodes.equals(sortedNodes)) {
      return s;
    }
    List<List<String>> parts = s != null && s.members == members ? s.shards : split(members, shards);
    Map<String, List<String>> byNode = new LinkedHashMap<>();
    for (int k = 0; k < parts.size(); k++) {
      if (!parts.get(k).isEmpty()) {
        byNode.computeIfAbsent(nodeFor(k, sortedNodes), n -> new ArrayList<>()).addAll(parts.get(k));
      }
    }
    byNode.replaceAll((n, users) -> List.copyOf(users));
    Split fresh = new Split(members, parts, List.copyOf(sortedNodes), byNode);
    splits.put(conv, fresh);
    return fresh;
  }

  /**
   * A member set (compared by identity: {@link MemberSets} hands out one instance until the set
   * changes) in sub-partitions, and their recipients per node for one list of nodes.
   */
  private record Split(Collection<String> members, List<List<String>> shards, List<String> nodes,
      Map<String, List<String>> byNode) {}
}
