package io.parley.gateway;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RS256 and ES256 verification keys of a JWKS URL ({@code auth.jwks_url}), cached. The key set is
 * fetched once at start and again when a token names a {@code kid} the cache does not have, but at
 * most once per {@link #REFRESH_MIN_MS} (a flood of tokens with made-up key ids costs the identity
 * provider one request a minute), and never twice at once: concurrent askers share one fetch; and
 * once it is {@link #MAX_AGE_MS} old, so a key the provider withdrew stops verifying within the hour
 * (a failed fetch keeps the cached keys: an identity provider that is down locks no one out). The
 * fetch is Vert.x's non-blocking HTTP client; keys of another type or algorithm, or not for
 * signatures, are skipped with a warning.
 */
final class JwksKeys {
  static final long REFRESH_MIN_MS = 60_000;
  /** A key set older than this is fetched again before the next token is verified (withdrawn keys stop working). */
  static final long MAX_AGE_MS = 3_600_000;
  static final long FETCH_TIMEOUT_MS = 10_000;
  static final int BODY_MAX_BYTES = 1 << 20;
  private static final Logger LOG = LoggerFactory.getLogger(JwksKeys.class);

  private final Vertx vertx;
  private final String url;
  private final LongSupplier clockMs;
  private final Consumer<List<JsonObject>> onChange;
  private volatile List<JsonObject> keys = List.of();
  private volatile Set<String> kids = Set.of();
  // guarded by this
  private long lastFetchMs;
  private boolean fetched;
  private Future<Boolean> inFlight;

  /**
   * @param onChange called with the new keys when a fetch changed them, before {@link #knows} and
   *     {@link #refresh}'s answer tell anyone (so whoever learns of a key can verify with it)
   */
  JwksKeys(Vertx vertx, String url, LongSupplier clockMs, Consumer<List<JsonObject>> onChange) {
    this.vertx = vertx;
    this.url = url;
    this.clockMs = clockMs;
    this.onChange = onChange;
  }

  boolean knows(String kid) {
    return kids.contains(kid);
  }

  /** Whether the last fetch began {@link #MAX_AGE_MS} ago or more. */
  synchronized boolean stale() {
    return fetched && inFlight == null && clockMs.getAsLong() - lastFetchMs >= MAX_AGE_MS;
  }

  /**
   * Fetches the key set unless a fetch began less than {@link #REFRESH_MIN_MS} ago; completes with
   * whether the key set changed (false also when the fetch failed, which is logged).
   */
  synchronized Future<Boolean> refresh() {
    if (inFlight != null) {
      return inFlight;
    }
    long now = clockMs.getAsLong();
    if (fetched && now - lastFetchMs < REFRESH_MIN_MS) {
      return Future.succeededFuture(false);
    }
    fetched = true;
    lastFetchMs = now;
    Promise<Boolean> done = Promise.promise();
    inFlight = done.future();
    fetch().onComplete(ar -> {
      boolean changed = false;
      try {
        if (ar.failed()) {
          LOG.warn("JWKS {}: fetch failed, keeping {} cached key(s): {}", url, kids.size(), ar.cause().toString());
        } else if (!ar.result().equals(keys)) {
          onChange.accept(ar.result());
          keys = ar.result();
          Set<String> ids = new java.util.HashSet<>();
          keys.forEach(k -> {
            if (k.getString("kid") != null) {
              ids.add(k.getString("kid"));
            }
          });
          kids = Set.copyOf(ids);
          changed = true;
          LOG.info("JWKS {}: {} key(s) {}", url, ids.size(), ids);
        }
      } catch (RuntimeException e) {
        LOG.warn("JWKS {}: key set not usable, keeping {} cached key(s)", url, kids.size(), e);
      } finally {
        // whatever happened, the next asker after the minute may fetch again
        synchronized (this) {
          inFlight = null;
        }
        done.complete(changed);
      }
    });
    return done.future();
  }

  /**
   * One GET on a client of its own, closed after: fetches are a minute apart at least, and a pooled
   * connection the server closed meanwhile could take the request (vert.x#2772: a timeout, not an error).
   */
  private Future<List<JsonObject>> fetch() {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url)
        .putHeader("Accept", "application/json").setTimeout(FETCH_TIMEOUT_MS);
    HttpClient http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false));
    return http.request(options).compose(req -> req.send()).<List<JsonObject>>compose(resp -> {
      if (resp.statusCode() != 200) {
        return Future.failedFuture("HTTP " + resp.statusCode());
      }
      // read with a bound (a chunked answer has no length to check first)
      Promise<Buffer> body = Promise.promise();
      Buffer received = Buffer.buffer();
      resp.exceptionHandler(body::tryFail);
      resp.handler(chunk -> {
        if (received.length() + chunk.length() > BODY_MAX_BYTES) {
          body.tryFail(new IllegalStateException("key set over " + BODY_MAX_BYTES + " bytes"));
          resp.request().reset();
        } else {
          received.appendBuffer(chunk);
        }
      });
      resp.endHandler(v -> body.tryComplete(received));
      return body.future().map(b -> usable(b.toJsonObject()));
    }).eventually(http::close);
  }

  /** The RS256 and ES256 (P-256) signature keys of a JWKS document, {@code alg} filled in. */
  static List<JsonObject> usable(JsonObject jwks) {
    JsonArray all = jwks.getJsonArray("keys");
    if (all == null) {
      throw new IllegalArgumentException("not a JWKS document: no \"keys\" array");
    }
    List<JsonObject> out = new ArrayList<>();
    for (Object o : all) {
      if (!(o instanceof JsonObject key)) {
        continue;
      }
      String kty = key.getString("kty", "");
      String alg = key.getString("alg");
      String use = key.getString("use", "sig");
      String expected = switch (kty) {
        case "RSA" -> "RS256";
        case "EC" -> "P-256".equals(key.getString("crv")) ? "ES256" : null;
        default -> null;
      };
      if (expected == null || !"sig".equals(use) || alg != null && !alg.equals(expected)) {
        LOG.warn("JWKS key {} skipped: only RS256 (RSA) and ES256 (EC P-256) signature keys are used (kty {}, alg {}, use {})",
            key.getString("kid"), kty, alg, use);
        continue;
      }
      JsonObject copy = new JsonObject().put("kty", kty).put("alg", expected);
      for (String field : List.of("kid", "n", "e", "crv", "x", "y")) {
        if (key.getValue(field) != null) {
          copy.put(field, key.getValue(field));
        }
      }
      out.add(copy);
    }
    return List.copyOf(out);
  }
}
