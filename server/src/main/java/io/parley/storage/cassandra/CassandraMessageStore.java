package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * The cluster profile's {@link MessageStore}: history reads of the {@code messages} table, one
 * partition per conversation, newest first. Messages get there through
 * {@link CassandraMessageArchive}.
 */
public final class CassandraMessageStore implements MessageStore {
  private final CassandraClient client;
  private final PreparedStatement selectOne;
  private final PreparedStatement selectBefore;
  private final PreparedStatement selectAfter;

  private CassandraMessageStore(CassandraClient client, List<PreparedStatement> p) {
    this.client = client;
    this.selectOne = p.get(0);
    this.selectBefore = p.get(1);
    this.selectAfter = p.get(2);
  }

  /** Prepares the statements (the schema must exist) and returns the ready store. */
  public static Future<CassandraMessageStore> create(CassandraClient client, CassandraNames names) {
    MessageTables t = new MessageTables(names);
    return MessageTables.prepare(client, List.of(t.selectOne(), t.selectBefore(), t.selectAfter()))
        .map(p -> new CassandraMessageStore(client, p));
  }

  @Override
  public Future<Optional<StoredMessage>> get(long conv, long serverId) {
    return client.executeWithFullFetch(selectOne.bind(conv, serverId))
        .map(rows -> rows.isEmpty() ? Optional.empty() : Optional.of(MessageTables.stored(conv, rows.get(0))));
  }

  @Override
  public Future<MessagePage> before(long conv, long beforeId, int limit) {
    if (limit <= 0 || beforeId <= 1) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    return client.executeWithFullFetch(selectBefore.bind(conv, beforeId, limit + 1)).map(rows -> page(conv, rows, limit, false));
  }

  @Override
  public Future<MessagePage> after(long conv, long afterId, int limit) {
    if (limit <= 0 || afterId == Long.MAX_VALUE) {
      return Future.succeededFuture(new MessagePage(List.of(), false));
    }
    // the partition is newest first: the first limit + 1 rows above the cursor are the newest
    return client.executeWithFullFetch(selectAfter.bind(conv, afterId, limit + 1)).map(rows -> page(conv, rows, limit, true));
  }

  private static MessagePage page(long conv, List<Row> rows, int limit, boolean oldestFirst) {
    List<StoredMessage> out = new ArrayList<>(Math.min(limit, rows.size()));
    for (int i = 0; i < rows.size() && i < limit; i++) {
      out.add(MessageTables.stored(conv, rows.get(i)));
    }
    if (oldestFirst) {
      Collections.reverse(out);
    }
    return new MessagePage(out, rows.size() > limit);
  }
}
