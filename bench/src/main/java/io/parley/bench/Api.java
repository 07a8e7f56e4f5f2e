package io.parley.bench;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** Asynchronous calls to the Parley REST API that the scenarios need for their set-up. */
final class Api {
  private final HttpClient http;

  Api(HttpClient http) {
    this.http = http;
  }

  /** POST /v1/dev/token: returns a bearer token for {@code user}. */
  Future<String> token(String user) {
    return call(HttpMethod.POST, "/v1/dev/token", null, new JsonObject().put("user", user))
        .map(json -> {
          String t = json.getString("token");
          if (t == null || t.isEmpty()) {
            throw new IllegalStateException("no token in response for " + user + ": " + json.encode());
          }
          return t;
        });
  }

  /** Creates (or finds) the DM between the token's user and {@code other}; returns the conversation id. */
  Future<String> createDm(String token, String other) {
    JsonObject body = new JsonObject().put("type", "dm").put("members", new JsonArray().add(other));
    return call(HttpMethod.POST, "/v1/conversations", token, body).map(Api::conversationId);
  }

  /** Creates a group owned by the token's user with the given other members; returns its id. */
  Future<String> createGroup(String token, String name, List<String> members) {
    JsonObject body = new JsonObject().put("type", "group").put("name", name)
        .put("members", new JsonArray(List.copyOf(members)));
    return call(HttpMethod.POST, "/v1/conversations", token, body).map(Api::conversationId);
  }

  /** Adds users to an existing conversation. */
  Future<Void> addMembers(String token, String conv, List<String> users) {
    JsonObject body = new JsonObject().put("users", new JsonArray(List.copyOf(users)));
    return call(HttpMethod.POST, "/v1/conversations/" + conv + "/members", token, body).mapEmpty();
  }

  /** PUT /v1/devices/{device}/push: registers the token's user's device with a push provider (204). */
  Future<Void> registerPush(String token, String device, JsonObject registration) {
    return call(HttpMethod.PUT, "/v1/devices/" + device + "/push", token, registration).mapEmpty();
  }

  /** GET /health/ready: true when the server answers 200. */
  Future<Boolean> ready() {
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setURI("/health/ready").setIdleTimeout(5_000))
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> resp.statusCode() == 200))
        .otherwise(false);
  }

  /**
   * GET {@code uri} on the server at {@code port} (not the default one): for clients that move
   * between the nodes of a cluster.
   */
  Future<JsonObject> get(int port, String uri, String token) {
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setPort(port).setURI(uri).setIdleTimeout(10_000)
        .putHeader("Authorization", "Bearer " + token);
    return http.request(ro).compose(req -> req.send()).compose(resp -> resp.body().map(buf -> {
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("HTTP " + resp.statusCode() + " for GET " + uri + " on port " + port);
      }
      return buf.toJsonObject();
    }));
  }

  private static String conversationId(JsonObject json) {
    Object id = json.getValue("id");
    if (id == null) {
      throw new IllegalStateException("no id in conversation response: " + json.encode());
    }
    return String.valueOf(id);
  }

  private Future<JsonObject> call(HttpMethod method, String uri, String token, JsonObject body) {
    RequestOptions ro = new RequestOptions().setMethod(method).setURI(uri).setIdleTimeout(30_000)
        .putHeader("Content-Type", "application/json");
    if (token != null) {
      ro.putHeader("Authorization", "Bearer " + token);
    }
    return http.request(ro)
        .compose(req -> req.send(body.toBuffer()))
        .compose(resp -> resp.body().map(buf -> {
          int sc = resp.statusCode();
          if (sc < 200 || sc > 299) {
            String text = buf.toString();
            if (text.length() > 300) {
              text = text.substring(0, 300) + "...";
            }
            throw new IllegalStateException("HTTP " + sc + " for " + method + " " + uri + ": " + text);
          }
          return buf.length() == 0 ? new JsonObject() : buf.toJsonObject();
        }));
  }
}
