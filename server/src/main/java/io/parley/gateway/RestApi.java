package io.parley.gateway;

import io.parley.config.ParleyConfig;
import io.parley.history.Conversation;
import io.parley.history.ConversationService;
import io.parley.history.MessagePage;
import io.parley.history.StoredMessage;
import io.parley.history.UserConversation;
import io.parley.protocol.ErrorCode;
import io.parley.protocol.Ids;
import io.parley.protocol.ParleyException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST for conversations, membership and cursor-paginated history. Every route needs a bearer
 * token; every error is {@code {"error":{"code","message"}}} with the code's HTTP status.
 */
final class RestApi {
  private static final Logger LOG = LoggerFactory.getLogger(RestApi.class);
  static final String USER = "parley.user";
  /** The node's name, in every {@code /v1/} request's context (for its log lines). */
  static final String NODE = "parley.node";

  private final Auth auth;
  private final ConversationService service;
  private final ParleyConfig config;

  RestApi(Auth auth, ConversationService service, ParleyConfig config) {
    this.auth = auth;
    this.service = service;
    this.config = config;
  }

  void mount(Router router) {
    router.route("/v1/conversations*").handler(authenticator(auth));
    router.post("/v1/conversations").handler(this::create);
    router.get("/v1/conversations").handler(this::list);
    router.get("/v1/conversations/:id").handler(this::get);
    router.get("/v1/conversations/:id/messages").handler(this::messages);
    router.post("/v1/conversations/:id/members").handler(this::addMembers);
    router.delete("/v1/conversations/:id/members/:user").handler(this::removeMember);
    router.put("/v1/conversations/:id/settings").handler(this::settings);
    router.route("/v1/*").failureHandler(ctx -> {
      int status = ctx.statusCode();
      if (status == 413) {
        error(ctx, ErrorCode.TOO_LARGE, "request body too large");
      } else if (status >= 400 && status < 500) {
        error(ctx, ErrorCode.BAD_REQUEST, "bad request");
      } else {
        ConnectionLog.fields(LOG.atError(), ctx.get(NODE), ctx.get(USER), null).setCause(ctx.failure())
            .log("request {} {} failed", ctx.request().method(), ctx.request().path());
        error(ctx, ErrorCode.INTERNAL, "internal error");
      }
    });
  }

  /** Authenticates the bearer token and puts the user under {@link #USER}, or answers 401. */
  static Handler<RoutingContext> authenticator(Auth auth) {
    return ctx -> auth.authenticate(ctx.request()).onComplete(ar -> {
      if (ar.failed()) {
        unauthorized(ctx, ar.cause().getMessage());
      } else {
        ctx.put(USER, ar.result());
        ctx.next();
      }
    });
  }

  private void create(RoutingContext ctx) {
    JsonObject body = bodyObject(ctx);
    if (body == null) {
      return;
    }
    String caller = ctx.get(USER);
    Object type = body.getValue("type");
    List<String> members = stringList(ctx, body, "members");
    if (members == null) {
      return;
    }
    if ("dm".equals(type)) {
      List<String> others = members.stream().filter(m -> !m.equals(caller)).distinct().toList();
      if (others.size() != 1) {
        error(ctx, ErrorCode.BAD_REQUEST, "a DM has exactly one other member");
        return;
      }
      respond(ctx, () -> service.createDm(caller, others.get(0)),
          created -> reply(ctx, created.created() ? 201 : 200, conversationJson(created.conversation())));
    } else if ("group".equals(type)) {
      Object name = body.getValue("name");
      if (name != null && (!(name instanceof String n) || n.length() > 200)) {
        error(ctx, ErrorCode.BAD_REQUEST, "'name' must be a string of at most 200 characters");
        return;
      }
      respond(ctx, () -> service.createGroup(caller, (String) name, members),
          c -> reply(ctx, 201, conversationJson(c)));
    } else {
      error(ctx, ErrorCode.BAD_REQUEST, "'type' must be \"dm\" or \"group\"");
    }
  }

  private void list(RoutingContext ctx) {
    int limit = intParam(ctx, "limit", config.historyPageDefault(), 1, config.historyPageMax());
    long cursor = idParam(ctx, "cursor", 0);
    if (limit < 0 || cursor < 0) {
      return;
    }
    respond(ctx, () -> service.list(ctx.get(USER), cursor, limit), page -> {
      JsonArray items = new JsonArray();
      List<UserConversation> shown = page.size() > limit ? page.subList(0, limit) : page;
      for (UserConversation uc : shown) {
        items.add(conversationJson(uc.conversation())
            .put("last_read_id", uc.lastReadId() > 0 ? Long.toString(uc.lastReadId()) : null)
            .put("muted", uc.muted()));
      }
      String next = page.size() > limit ? Long.toString(shown.get(shown.size() - 1).conversation().activity()) : null;
      reply(ctx, 200, new JsonObject().put("conversations", items).put("next_cursor", next));
    });
  }

  private void get(RoutingContext ctx) {
    long conv = pathId(ctx);
    if (conv > 0) {
      String caller = ctx.get(USER);
      respond(ctx, () -> service.get(caller, conv).compose(c -> service.muted(caller, conv).map(m -> conversationJson(c).put("muted", m))),
          json -> reply(ctx, 200, json));
    }
  }

  private void messages(RoutingContext ctx) {
    long conv = pathId(ctx);
    int limit = intParam(ctx, "limit", config.historyPageDefault(), 1, config.historyPageMax());
    long before = idParam(ctx, "before", Long.MAX_VALUE);
    if (conv <= 0 || limit < 0 || before < 0) {
      return;
    }
    respond(ctx, () -> service.history(ctx.get(USER), conv, before, limit), (MessagePage page) -> {
      // the stored frames are already JSON: join them instead of parsing and re-encoding
      StringBuilder sb = new StringBuilder(256 * page.messages().size() + 64).append("{\"messages\":[");
      List<StoredMessage> msgs = page.messages();
      for (int i = 0; i < msgs.size(); i++) {
        sb.append(i == 0 ? "" : ",").append(msgs.get(i).frame());
      }
      String next = page.more() && !msgs.isEmpty() ? "\"" + msgs.get(msgs.size() - 1).serverId() + "\"" : "null";
      sb.append("],\"next_cursor\":").append(next).append('}');
      ctx.response().setStatusCode(200).putHeader("content-type", "application/json").end(sb.toString());
    });
  }

  private void addMembers(RoutingContext ctx) {
    long conv = pathId(ctx);
    JsonObject body = conv > 0 ? bodyObject(ctx) : null;
    if (body == null) {
      return;
    }
    List<String> users = stringList(ctx, body, "users");
    if (users == null) {
      return;
    }
    if (users.isEmpty()) {
      error(ctx, ErrorCode.BAD_REQUEST, "'users' must name at least one user");
      return;
    }
    respond(ctx, () -> service.addMembers(ctx.get(USER), conv, users), c -> reply(ctx, 200, conversationJson(c)));
  }

  private void removeMember(RoutingContext ctx) {
    long conv = pathId(ctx);
    if (conv > 0) {
      respond(ctx, () -> service.removeMember(ctx.get(USER), conv, ctx.pathParam("user")),
          v -> ctx.response().setStatusCode(204).end());
    }
  }

  private void settings(RoutingContext ctx) {
    long conv = pathId(ctx);
    if (conv <= 0) {
      return;
    }
    JsonObject body = bodyObject(ctx);
    if (body == null) {
      return;
    }
    if (!(body.getValue("muted") instanceof Boolean muted) || body.size() != 1) {
      error(ctx, ErrorCode.BAD_REQUEST, "settings are {\"muted\": true|false}");
      return;
    }
    respond(ctx, () -> service.setMuted(ctx.get(USER), conv, muted), v -> ctx.response().setStatusCode(204).end());
  }

  private JsonObject conversationJson(Conversation c) {
    return c.toJson(config.smallGroupMax());
  }

  // --- helpers ---------------------------------------------------------------------------------

  static <T> void respond(RoutingContext ctx, Supplier<Future<T>> call, java.util.function.Consumer<T> ok) {
    Future<T> f;
    try {
      f = call.get();
    } catch (ParleyException e) {
      error(ctx, e.code(), e.getMessage());
      return;
    }
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        ok.accept(ar.result());
      } else if (ar.cause() instanceof ParleyException e) {
        error(ctx, e.code(), e.getMessage());
      } else {
        ConnectionLog.fields(LOG.atError(), ctx.get(NODE), ctx.get(USER), null).setCause(ar.cause())
            .log("request {} {} failed", ctx.request().method(), ctx.request().path());
        error(ctx, ErrorCode.UNAVAILABLE, "storage unavailable, retry");
      }
    });
  }

  static JsonObject bodyObject(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body == null) {
        error(ctx, ErrorCode.BAD_REQUEST, "a JSON object body is required");
      }
      return body;
    } catch (DecodeException | ClassCastException e) {
      error(ctx, ErrorCode.BAD_REQUEST, "body is not a JSON object");
      return null;
    }
  }

  private static List<String> stringList(RoutingContext ctx, JsonObject body, String field) {
    Object v = body.getValue(field);
    if (!(v instanceof JsonArray arr)) {
      error(ctx, ErrorCode.BAD_REQUEST, "'" + field + "' must be an array of user ids");
      return null;
    }
    List<String> out = new ArrayList<>(arr.size());
    for (Object o : arr) {
      if (!(o instanceof String s)) {
        error(ctx, ErrorCode.BAD_REQUEST, "'" + field + "' must be an array of user ids");
        return null;
      }
      out.add(s);
    }
    return out;
  }

  private static long pathId(RoutingContext ctx) {
    long id = Ids.parse(ctx.pathParam("id"));
    if (id <= 0) {
      error(ctx, ErrorCode.BAD_REQUEST, "conversation id must be a positive decimal integer");
    }
    return id;
  }

  /** The parameter's value, its default when absent, or -1 after answering 400. */
  private static int intParam(RoutingContext ctx, String name, int def, int min, int max) {
    String raw = ctx.request().getParam(name);
    if (raw == null) {
      return def;
    }
    long v = Ids.parse(raw);
    if (v < min || v > max) {
      error(ctx, ErrorCode.BAD_REQUEST, "'" + name + "' must be an integer in " + min + ".." + max);
      return -1;
    }
    return (int) v;
  }

  private static long idParam(RoutingContext ctx, String name, long def) {
    String raw = ctx.request().getParam(name);
    if (raw == null) {
      return def;
    }
    long v = Ids.parse(raw);
    if (v <= 0) {
      error(ctx, ErrorCode.BAD_REQUEST, "'" + name + "' must be an id");
      return -1;
    }
    return v;
  }

  private static void reply(RoutingContext ctx, int status, JsonObject body) {
    GatewayVerticle.json(ctx, status, body);
  }

  static void error(RoutingContext ctx, ErrorCode code, String message) {
    if (!ctx.response().ended()) {
      reply(ctx, code.httpStatus(), errorBody(code.wire(), message));
    }
  }

  static void unauthorized(RoutingContext ctx, String message) {
    if (!ctx.response().ended()) {
      reply(ctx, 401, errorBody("unauthorized", message));
    }
  }

  /** The body of every HTTP error: {@code {"error":{"code":…,"message":…}}}. */
  static JsonObject errorBody(String code, String message) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", message));
  }
}
