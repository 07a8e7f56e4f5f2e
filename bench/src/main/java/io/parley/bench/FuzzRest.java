package io.parley.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/**
 * REST half of the fuzzer: every POST and PUT route of docs/protocol.md with bodies built from a
 * valid one by {@link FuzzCases}'s mutations (plus odd path ids, devices, no token, a body over
 * 1 MiB). Its users ({@code fr*}) are not the WebSocket workers', so what it creates never
 * reaches them.
 */
final class FuzzRest {
  /** One request: method, path, token or null, body. */
  record Request(String method, String path, String token, String body) {}

  private final Random rnd;
  private final List<String> tokens;
  private final List<String> groups;
  private final FuzzCases mutator;

  FuzzRest(Random rnd, List<String> tokens, List<String> groups, FuzzCases mutator) {
    this.rnd = rnd;
    this.tokens = tokens;
    this.groups = groups;
    this.mutator = mutator;
  }

  Request next() {
    String token = rnd.nextInt(50) == 0 ? null : tokens.get(rnd.nextInt(tokens.size()));
    JsonObject base;
    String method = "POST";
    String path;
    switch (rnd.nextInt(6)) {
      case 0:
        path = "/v1/conversations";
        base = new JsonObject().put("type", "dm").put("members", new JsonArray().add(user()));
        break;
      case 1:
        path = "/v1/conversations";
        base = new JsonObject().put("type", "group").put("name", "g" + rnd.nextInt(100))
            .put("members", new JsonArray().add(user()).add(user()));
        break;
      case 2:
        path = "/v1/conversations/" + convId() + "/members";
        base = new JsonObject().put("users", new JsonArray().add(user()));
        break;
      case 3:
        method = "PUT";
        path = "/v1/conversations/" + convId() + "/settings";
        base = new JsonObject().put("muted", rnd.nextBoolean());
        break;
      case 4:
        method = "PUT";
        path = "/v1/devices/" + device() + "/push";
        base = registration();
        break;
      default:
        path = "/v1/dev/token";
        base = new JsonObject().put("user", user());
        if (rnd.nextBoolean()) {
          base.put("email", "fr@example.com");
        }
    }
    String body = rnd.nextInt(200) == 0 ? "{\"a\":\"" + "x".repeat(1024 * 1024) + "\"}" : mutator.mutatedText(base);
    return new Request(method, path, token, body);
  }

  private String user() {
    return rnd.nextInt(10) == 0 ? "bad user!" : "fr" + rnd.nextInt(40);
  }

  private String convId() {
    String[] odd = {"0", "-1", "abc", "9223372036854775808", "99999999999999999999", "1e3", "%20", "00001"};
    int k = rnd.nextInt(4);
    return k < 2 ? groups.get(rnd.nextInt(groups.size())) : k == 2 ? Long.toString(1 + (rnd.nextLong() >>> 1)) : odd[rnd.nextInt(odd.length)];
  }

  private String device() {
    String[] odd = {"d" + rnd.nextInt(12), "phone", "x".repeat(65), "bad%20device", "%C3%A9", "-", "_"};
    return odd[rnd.nextInt(odd.length)];
  }

  private JsonObject registration() {
    switch (rnd.nextInt(3)) {
      case 0:
        // a loopback endpoint on the discard port: never a push service anyone runs
        return new JsonObject().put("provider", "webpush").put("subscription", new JsonObject()
            .put("endpoint", "https://127.0.0.1:9/push/" + rnd.nextInt(100))
            .put("keys", new JsonObject()
                .put("p256dh", "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM")
                .put("auth", "tBHItJI5svbpez7KI4CCXg")));
      case 1:
        return new JsonObject().put("provider", "fcm").put("token", "tok" + rnd.nextInt(100));
      default:
        return new JsonObject().put("provider", "apns").put("token", "ab".repeat(32)).put("topic", "io.parley.app");
    }
  }

  /** Sends one request (HTTP/1.1); returns the status and body. */
  static HttpResponse<String> send(HttpClient http, String base, Request r) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + r.path())).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").method(r.method(), HttpRequest.BodyPublishers.ofString(r.body()));
    if (r.token() != null) {
      b.header("Authorization", "Bearer " + r.token());
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
