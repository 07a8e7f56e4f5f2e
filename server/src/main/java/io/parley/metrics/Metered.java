package io.parley.metrics;

import io.parley.history.MessagePage;
import io.parley.history.MessageStore;
import io.parley.history.StoredMessage;
import io.parley.protocol.ChatMessage;
import io.parley.routing.LogSource;
import io.parley.routing.MessageArchive;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;

/**
 * Storage ports with their calls timed ({@code parley_storage_seconds}) and failures counted, as
 * decorators: the adapters stay free of meters, and a batch costs one timer record, not one per
 * message. Every method of the ports is forwarded, default ones included (an unforwarded default
 * would silently replace the adapter's own: {@code MeteredTest} checks it).
 */
public final class Metered {
  private Metered() {}

  /** {@code archive} with each {@code persist} (one routing batch) timed; a failed one is a durability error. */
  public static MessageArchive archive(MessageArchive archive, IoMeter persist) {
    return new MessageArchive() {
      @Override
      public Future<List<ChatMessage>> persist(List<ChatMessage> batch) {
        return timed(() -> archive.persist(batch), persist);
      }

      @Override
      public Future<List<ChatMessage>> persistLogged(List<LogSource.Logged> records, IntToLongFunction ownership) {
        return timed(() -> archive.persistLogged(records, ownership), persist);
      }

      @Override
      public boolean rejects(Throwable failure) {
        return archive.rejects(failure);
      }
    };
  }

  /** {@code store} with each read (a message, a page of history or of a sync) timed. */
  public static MessageStore store(MessageStore store, IoMeter read) {
    return new MessageStore() {
      @Override
      public Future<Optional<StoredMessage>> get(long conv, long serverId) {
        return timed(() -> store.get(conv, serverId), read);
      }

      @Override
      public Future<MessagePage> before(long conv, long beforeId, int limit) {
        return timed(() -> store.before(conv, beforeId, limit), read);
      }

      @Override
      public Future<MessagePage> after(long conv, long afterId, int limit) {
        return timed(() -> store.after(conv, afterId, limit), read);
      }

      @Override
      public Future<Optional<String>> takedown(long conv, long serverId) {
        return store.takedown(conv, serverId);
      }
    };
  }

  private static <T> Future<T> timed(Supplier<Future<T>> call, IoMeter meter) {
    long t0 = System.nanoTime();
    return call.get().andThen(ar -> {
      if (ar.succeeded()) {
        meter.succeeded(t0);
      } else {
        meter.failed();
      }
    });
  }
}
