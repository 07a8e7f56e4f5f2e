package io.parley.storage.cassandra;

import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.parley.protocol.ChatMessage;
import io.parley.routing.SendIndex;
import io.vertx.cassandra.CassandraClient;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;

/**
 * The cluster profile's {@link SendIndex}: a look-up of the {@code message_dedupe} row that
 * {@link CassandraMessageArchive} writes per (sender, client msg id), which carries the stored
 * message's frame, so a retried send gets its original even before the message row is readable.
 */
public final class CassandraSendIndex implements SendIndex {
  private final CassandraClient client;
  private final PreparedStatement selectDedupe;

  private CassandraSendIndex(CassandraClient client, PreparedStatement selectDedupe) {
    this.client = client;
    this.selectDedupe = selectDedupe;
  }

  /** Prepares the statement (the schema must exist) and returns the ready index. */
  public static Future<CassandraSendIndex> create(CassandraClient client, CassandraNames names) {
    return MessageTables.prepare(client, List.of(new MessageTables(names).selectDedupe()))
        .map(p -> new CassandraSendIndex(client, p.get(0)));
  }

  @Override
  public Future<Optional<ChatMessage>> find(String from, String msgId) {
    return client.executeWithFullFetch(selectDedupe.bind(from, msgId)).map(rows -> MessageTables.dedupe(rows)
        .filter(d -> d.frame() != null)
        .map(d -> ChatMessage.fromFrame(d.frame())));
  }
}
