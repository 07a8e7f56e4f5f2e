package io.parley.bridge;

import io.parley.history.ConversationStore;
import io.parley.history.MessageStore;
import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.Addresses;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.Deliveries;
import io.parley.protocol.Delivery;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Outbound;
import io.parley.protocol.ParleyException;
import io.parley.routing.SendBatch;
import io.parley.routing.SendReplies;
import io.parley.routing.SendRequest;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bridge's inbound requests, each a node-local event-bus consumer answering a JSON object or
 * failing with a Parley {@link ErrorCode} (which the client gets as an {@code err} frame with that
 * {@code code}):
 * <ul>
 *   <li>{@code parley.bridge.post} {@code {conv, body, msg_id?}}: a system message, sent by
 *       {@link SendRequest#SYSTEM}, through routing like any send (stored, delivered live, pushed,
 *       deduplicated on {@code msg_id}); answers the ack's ids once it is durable.
 *   <li>{@code parley.bridge.disconnect} {@code {user}}: closes the user's connections on every
 *       node with 4003; answers how many the registry knew.
 *   <li>{@code parley.bridge.conversation} {@code {conv}}: the conversation with all its members.
 *   <li>{@code parley.bridge.devices} {@code {user}}: presence and connected devices.
 *   <li>{@code parley.bridge.takedown} {@code {conv, server_id}}: replaces the message by its
 *       tombstone ({@link MessageStore#takedown}) and sends the tombstone, a {@code deleted} frame,
 *       to the conversation's connected members.
 * </ul>
 */
final class BridgeOps {
  private static final Logger LOG = LoggerFactory.getLogger(BridgeOps.class);
  private static final Pattern MSG_ID = Pattern.compile("[\\x21-\\x7e]{1,64}");

  private final EventBus bus;
  private final ConversationStore conversations;
  private final MessageStore messages;
  private final ConnectionRegistry registry;
  private final int bodyMaxBytes;

  BridgeOps(EventBus bus, ConversationStore conversations, MessageStore messages, ConnectionRegistry registry,
      int bodyMaxBytes) {
    this.bus = bus;
    this.conversations = conversations;
    this.messages = messages;
    this.registry = registry;
    this.bodyMaxBytes = bodyMaxBytes;
  }

  /** Registers the handlers (node-local); completes once all are registered. */
  Future<Void> register() {
    return Future.all(List.of(
        handle(Addresses.BRIDGE_POST, this::post),
        handle(Addresses.BRIDGE_DISCONNECT, this::disconnect),
        handle(Addresses.BRIDGE_CONVERSATION, this::conversation),
        handle(Addresses.BRIDGE_DEVICES, this::devices),
        handle(Addresses.BRIDGE_TAKEDOWN, this::takedown))).mapEmpty();
  }

  private Future<Void> handle(String address, Function<JsonObject, Future<JsonObject>> op) {
    return bus.<JsonObject>localConsumer(address, m -> {
      Future<JsonObject> answer;
      try {
        answer = op.apply(m.body());
      } catch (ParleyException e) {
        answer = Future.failedFuture(e);
      }
      answer.onComplete(ar -> {
        if (ar.succeeded()) {
          m.reply(ar.result());
        } else {
          fail(m, ar.cause());
        }
      });
    }).completion();
  }

  private static void fail(Message<?> m, Throwable t) {
    if (t instanceof ParleyException p) {
      m.fail(p.code().failureCode(), p.code().wire() + ": " + p.getMessage());
    } else {
      LOG.warn("bridge request to {} failed: {}", m.address(), t.toString());
      m.fail(ErrorCode.UNAVAILABLE.failureCode(), "unavailable: " + t.getMessage());
    }
  }

  private Future<JsonObject> post(JsonObject req) {
    long conv = id(req, "conv");
    Object body = req.getValue("body");
    if (!(body instanceof String text) || text.getBytes(StandardCharsets.UTF_8).length > bodyMaxBytes) {
      throw bad("'body' must be a string of at most " + bodyMaxBytes + " bytes");
    }
    Object given = req.getValue("msg_id");
    if (given != null && !(given instanceof String g && MSG_ID.matcher(g).matches())) {
      throw bad("'msg_id' must be 1-64 printable ASCII characters");
    }
    // without a msg_id each post is new; with one, a repeated post is acked with the first
    String msgId = given != null ? (String) given : "bridge-" + UUID.randomUUID();
    return conversations.get(conv).compose(c -> {
      if (c.isEmpty()) {
        return Future.failedFuture(ParleyException.of(ErrorCode.NOT_FOUND, "no conversation " + conv));
      }
      io.vertx.core.Promise<JsonObject> answer = io.vertx.core.Promise.promise();
      SendReplies replies = new SendReplies() {
        @Override
        public void ack(String ackFrame) {
          JsonObject ack = new JsonObject(ackFrame);
          answer.tryComplete(new JsonObject().put("conv", ack.getString("conv")).put("server_id", ack.getString("server_id"))
              .put("msg_id", ack.getString("msg_id")).put("ts", ack.getValue("ts")).put("from", SendRequest.SYSTEM));
        }

        @Override
        public void fail(String id, long c, ErrorCode code, String message) {
          answer.tryFail(ParleyException.of(code, message));
        }
      };
      bus.send(Addresses.ROUTING_SEND, new SendBatch(List.of(SendRequest.system(
          new ClientFrame.Send(msgId, conv, text, null), replies))), Addresses.local());
      return answer.future();
    });
  }

  private Future<JsonObject> disconnect(JsonObject req) {
    String user = user(req);
    return registry.connectionsOf(List.of(user)).map(all -> {
      Set<String> connections = all.getOrDefault(user, Set.of());
      bus.publish(Addresses.DISCONNECT_USER, user);
      return new JsonObject().put("user", user).put("connections", connections.size());
    });
  }

  private Future<JsonObject> conversation(JsonObject req) {
    long conv = id(req, "conv");
    return conversations.get(conv).compose(c -> c.isEmpty()
        ? Future.failedFuture(ParleyException.of(ErrorCode.NOT_FOUND, "no conversation " + conv))
        : Future.succeededFuture(new JsonObject().put("conversation", c.get().toJson(Integer.MAX_VALUE))));
  }

  private Future<JsonObject> devices(JsonObject req) {
    String user = user(req);
    return Future.all(registry.connectionsOf(List.of(user)), registry.presence(user)).map(both -> {
      Set<String> connections = both.<java.util.Map<String, Set<String>>>resultAt(0).getOrDefault(user, Set.of());
      ConnectionRegistry.Presence p = both.resultAt(1);
      JsonArray devices = new JsonArray();
      for (String id : connections) {
        devices.add(new JsonObject().put("connection", id).put("device", ConnectionIds.device(id)));
      }
      return new JsonObject().put("user", user).put("online", !connections.isEmpty())
          .put("last_seen", p.lastSeen() > 0 ? p.lastSeen() : null).put("devices", devices);
    });
  }

  private Future<JsonObject> takedown(JsonObject req) {
    long conv = id(req, "conv");
    long serverId = id(req, "server_id");
    return messages.takedown(conv, serverId).compose(t -> {
      if (t.isEmpty()) {
        return Future.failedFuture(ParleyException.of(ErrorCode.NOT_FOUND, "no message " + serverId + " in " + conv));
      }
      String tombstone = t.get();
      LOG.info("message {} of conversation {} taken down through the bridge", serverId, conv);
      // connected members drop it at once (best effort: a member offline now never gets it from history)
      conversations.members(conv).onSuccess(members -> bus.publish(Addresses.ALL_NODES,
              Deliveries.of(new Delivery(new ArrayList<>(members), new Outbound(conv, 0, tombstone, null)))))
          .onFailure(e -> LOG.warn("takedown of {} in {}: members not told live: {}", serverId, conv, e.toString()));
      JsonObject ts = new JsonObject(tombstone);
      return Future.succeededFuture(new JsonObject().put("conv", Long.toString(conv)).put("server_id", Long.toString(serverId))
          .put("deleted_at", ts.getValue("deleted_at")));
    });
  }

  /** A positive id, given as a decimal string (as the protocol writes ids) or a JSON number. */
  private static long id(JsonObject req, String field) {
    Object v = req.getValue(field);
    try {
      long id = v instanceof String s ? Long.parseLong(s) : v instanceof Number n && n.longValue() == n.doubleValue() ? n.longValue() : -1;
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // falls through
    }
    throw bad("'" + field + "' must be a positive id");
  }

  private static String user(JsonObject req) {
    Object v = req.getValue("user");
    if (!(v instanceof String s) || !ClientFrame.validUser(s)) {
      throw bad("'user' must be a user id matching [A-Za-z0-9_.-]{1,64}");
    }
    return s;
  }

  private static ParleyException bad(String message) {
    return ParleyException.of(ErrorCode.BAD_REQUEST, message);
  }
}
