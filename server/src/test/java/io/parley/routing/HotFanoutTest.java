package io.parley.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.parley.fanout.Fanout;
import io.parley.fanout.FanoutStats;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The split of hot conversations' fan-out: by a stable hash of the user id into sub-partitions,
 * every member in exactly one; sub-partition k fanned out by node k mod n of the sorted live nodes;
 * conversations at or below the threshold untouched.
 */
class HotFanoutTest {
  static final int THRESHOLD = 8;
  static final int SHARDS = 4;

  static Set<String> members(int n) {
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      out.add("user-" + i);
    }
    return Set.copyOf(out);
  }

  static Fanout fanout(long conv, long serverId, String from, Collection<String> members) {
    return new Fanout(conv, serverId, from, "{\"op\":\"msg\",\"server_id\":\"" + serverId + "\"}", members,
        from + "-conn", "hi", serverId - 1);
  }

  static HotFanout hot(String self, List<String> live) {
    return new HotFanout(THRESHOLD, SHARDS, new HotFanout.Nodes(self, () -> live), new FanoutStats(), 100, 1 << 20);
  }

  @Test
  void aUserAlwaysFallsInTheSameSubPartitionAndUsersSpreadEvenly() {
    int[] counts = new int[16];
    for (int i = 0; i < 16_000; i++) {
      String user = "u" + i + "@example.org";
      int k = HotFanout.shardOf(user, 16);
      assertThat(HotFanout.shardOf(new String(user.toCharArray()), 16)).as("another instance of the same id").isEqualTo(k);
      counts[k]++;
    }
    for (int c : counts) {
      assertThat(c).as("each of 16 sub-partitions holds about 1,000 of 16,000 ids").isBetween(800, 1200);
    }
  }

  @Test
  void everyMemberIsInExactlyOneSubPartitionTheOneItsHashNames() {
    Set<String> members = members(1000);
    List<List<String>> parts = HotFanout.split(members, SHARDS);
    assertThat(parts).hasSize(SHARDS);
    List<String> all = new ArrayList<>();
    for (int k = 0; k < SHARDS; k++) {
      for (String u : parts.get(k)) {
        assertThat(HotFanout.shardOf(u, SHARDS)).isEqualTo(k);
      }
      all.addAll(parts.get(k));
    }
    assertThat(all).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(members);
  }

  @Test
  void subPartitionKGoesToNodeKModNOfTheSortedNodes() {
    List<String> sorted = List.of("a", "b", "c");
    assertThat(HotFanout.nodeFor(0, sorted)).isEqualTo("a");
    assertThat(HotFanout.nodeFor(1, sorted)).isEqualTo("b");
    assertThat(HotFanout.nodeFor(2, sorted)).isEqualTo("c");
    assertThat(HotFanout.nodeFor(3, sorted)).isEqualTo("a");
    assertThat(hot("b", List.of("c", "a", "b")).usable(0)).as("sorted, whatever order the cluster lists them in")
        .containsExactly("a", "b", "c");
    assertThat(hot("d", List.of("c", "a")).usable(0)).as("this node always takes part").containsExactly("a", "c", "d");
  }

  @Test
  void aConversationAtOrBelowTheThresholdIsHandedOverWholeToThisNode() {
    HotFanout hot = hot("b", List.of("a", "b", "c"));
    List<Fanout> batch = List.of(fanout(1, 10, "user-0", members(THRESHOLD)), fanout(2, 11, "user-1", members(2)));
    Map<String, List<Fanout>> parts = hot.assign(batch, 0);
    assertThat(parts).containsOnlyKeys("b");
    assertThat(parts.get("b")).isSameAs(batch);

    HotFanout off = new HotFanout(0, SHARDS, new HotFanout.Nodes("b", () -> List.of("a", "b", "c")), new FanoutStats(), 10, 1 << 20);
    List<Fanout> big = List.of(fanout(3, 12, "user-0", members(5000)));
    assertThat(off.assign(big, 0)).as("threshold 0: off").containsOnlyKeys("b");
  }

  @Test
  void aHotConversationIsCutByNodeEveryRecipientOnceTheSendersOtherDevicesIncludedInBatchOrder() {
    Set<String> members = members(40);
    Set<String> small = members(3);
    List<String> nodes = List.of("n1", "n2", "n3");
    HotFanout hot = hot("n2", nodes);
    List<Fanout> batch = List.of(fanout(1, 10, "user-5", members), fanout(2, 11, "user-1", small),
        fanout(1, 12, "user-7", members));

    Map<String, List<Fanout>> parts = hot.assign(batch, 0);

    assertThat(parts).containsOnlyKeys("n1", "n2", "n3");
    Map<Long, List<String>> recipientsById = new HashMap<>();
    for (Map.Entry<String, List<Fanout>> e : parts.entrySet()) {
      List<Long> ids = new ArrayList<>();
      for (Fanout f : e.getValue()) {
        ids.add(f.serverId());
        if (f.conv() == 1) {
          for (String u : f.recipients()) {
            int k = HotFanout.shardOf(u, SHARDS);
            assertThat(HotFanout.nodeFor(k, nodes)).as(u + " of sub-partition " + k).isEqualTo(e.getKey());
          }
          Fanout original = batch.stream().filter(o -> o.serverId() == f.serverId()).findFirst().orElseThrow();
          assertThat(f).usingRecursiveComparison().ignoringFields("recipients").isEqualTo(original);
        }
        recipientsById.computeIfAbsent(f.serverId(), id -> new ArrayList<>()).addAll(f.recipients());
      }
      assertThat(ids).as("node " + e.getKey() + " gets its fan-outs in the batch's order").isSorted();
    }
    assertThat(recipientsById.get(10L)).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(members)
        .contains("user-5"); // the sender: its other devices get the message
    assertThat(recipientsById.get(12L)).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(members);
    assertThat(parts.get("n2")).anySatisfy(f -> assertThat(f.serverId()).isEqualTo(11))
        .as("the small conversation stays on this node whole").filteredOn(f -> f.conv() == 2).singleElement()
        .satisfies(f -> assertThat(f.recipients()).isSameAs(small));
  }

  @Test
  void theSplitOfAMemberSetIsComputedOnceUntilTheSetOrTheNodesChange() {
    AtomicReference<List<String>> live = new AtomicReference<>(List.of("n1", "n2"));
    HotFanout hot = new HotFanout(THRESHOLD, SHARDS, new HotFanout.Nodes("n1", live::get), new FanoutStats(), 100, 1 << 20);
    Set<String> members = members(50);

    Map<String, List<Fanout>> first = hot.assign(List.of(fanout(1, 10, "user-0", members)), 0);
    Map<String, List<Fanout>> second = hot.assign(List.of(fanout(1, 11, "user-0", members)), 0);
    for (String n : first.keySet()) {
      assertThat(second.get(n).get(0).recipients()).as("cached for the same set").isSameAs(first.get(n).get(0).recipients());
    }

    Set<String> changed = new HashSet<>(members);
    changed.add("newcomer");
    Map<String, List<Fanout>> third = hot.assign(List.of(fanout(1, 12, "user-0", Set.copyOf(changed))), 0);
    assertThat(third.values().stream().flatMap(l -> l.get(0).recipients().stream())).contains("newcomer");

    live.set(List.of("n1", "n2", "n3"));
    Map<String, List<Fanout>> fourth = hot.assign(List.of(fanout(1, 13, "user-0", Set.copyOf(changed))), 0);
    assertThat(fourth.keySet()).as("a node joined: its sub-partitions move to it").contains("n3");
  }

  @Test
  void aNodeThatDidNotConfirmIsLeftOutForAWhileAndItsSubPartitionsGoToTheOthers() {
    HotFanout hot = hot("n1", List.of("n1", "n2", "n3"));
    Set<String> members = members(60);
    long now = 1_000_000_000L;
    hot.unconfirmed("n2", now);
    hot.unconfirmed("n1", now); // never this node itself

    Map<String, List<Fanout>> parts = hot.assign(List.of(fanout(1, 10, "user-0", members)), now + 1);
    assertThat(parts).containsOnlyKeys("n1", "n3");
    assertThat(parts.values().stream().flatMap(l -> l.get(0).recipients().stream()).toList())
        .containsExactlyInAnyOrderElementsOf(members);

    assertThat(hot.assign(List.of(fanout(1, 11, "user-0", members)), now + HotFanout.AVOID_NANOS))
        .as("back after the pause").containsOnlyKeys("n1", "n2", "n3");
  }

  @Test
  void aNodesPartIsCutIntoRequestsWithinTheBudgetInOrderNeverCuttingAFanout() {
    List<Fanout> part = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      part.add(fanout(1, 10 + i, "user-0", members(20)));
    }
    long one = part.get(0).frame().length() + part.get(0).preview().length()
        + part.get(0).recipients().stream().mapToLong(u -> u.length() + 1).sum();
    List<List<Fanout>> requests = HotFanout.requests(part, (int) (3 * one));
    assertThat(requests).hasSize(4);
    assertThat(requests.stream().flatMap(List::stream).toList()).as("all of them, in order").containsExactlyElementsOf(part);
    assertThat(requests.get(0)).hasSize(3);
    assertThat(HotFanout.requests(part, 1)).as("one larger than the budget travels alone").hasSize(10);
    assertThat(HotFanout.requests(part, Integer.MAX_VALUE)).hasSize(1);
  }
}
