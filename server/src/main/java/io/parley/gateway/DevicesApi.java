package io.parley.gateway;

import io.parley.presence.ConnectionIds;
import io.parley.presence.ConnectionRegistry;
import io.parley.protocol.ClientFrame;
import io.parley.protocol.ErrorCode;
import io.parley.push.PushRegistration;
import io.parley.push.PushRegistrations;
import io.parley.push.WebPushCrypto;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * REST for a user's devices and their push registrations (docs/protocol.md, "Devices and push"):
 * {@code PUT} and {@code DELETE /v1/devices/{device}/push}, {@code GET /v1/devices}, and the
 * public {@code GET /v1/push/webpush-key}. Stateless: one instance serves every gateway instance.
 */
public final class DevicesApi {
  private static final Pattern APNS_TOKEN = Pattern.compile("[0-9a-fA-F]{64,200}");
  private static final Pattern APNS_TOPIC = Pattern.compile("[A-Za-z0-9.-]{1,255}");
  private static final Pattern FCM_TOKEN = Pattern.compile("[\\x21-\\x7e]{1,4096}");
  private static final int ENDPOINT_MAX = 2048;

  private final Auth auth;
  private final PushRegistrations registrations;
  private final ConnectionRegistry registry;
  private final int devicesMax;
  private final Set<String> providers;
  private final String webPushKey;
  private final String apnsTopic;

  /**
   * @param providers the providers that are configured: registrations for others are refused
   * @param webPushKey the VAPID application server key (base64url), null when Web Push is off
   * @param apnsTopic {@code push.apns.topic}, the topic of APNs registrations that name none;
   *     empty: they must name one
   */
  public DevicesApi(Auth auth, PushRegistrations registrations, ConnectionRegistry registry, int devicesMax,
      Set<String> providers, String webPushKey, String apnsTopic) {
    this.auth = auth;
    this.registrations = registrations;
    this.registry = registry;
    this.devicesMax = devicesMax;
    this.providers = Set.copyOf(providers);
    this.webPushKey = webPushKey;
    this.apnsTopic = apnsTopic;
  }

  void mount(Router router) {
    router.get("/v1/push/webpush-key").handler(this::webPushKey);
    router.route("/v1/devices*").handler(RestApi.authenticator(auth));
    router.put("/v1/devices/:device/push").handler(this::register);
    router.delete("/v1/devices/:device/push").handler(this::unregister);
    router.get("/v1/devices").handler(this::list);
  }

  private void webPushKey(RoutingContext ctx) {
    if (webPushKey == null) {
      RestApi.error(ctx, ErrorCode.NOT_FOUND, "Web Push is not configured on this server");
    } else {
      GatewayVerticle.json(ctx, 200, new JsonObject().put("public_key", webPushKey));
    }
  }

  private void register(RoutingContext ctx) {
    String device = device(ctx);
    if (device == null) {
      return;
    }
    JsonObject body = RestApi.bodyObject(ctx);
    if (body == null) {
      return;
    }
    PushRegistration r;
    try {
      r = parse(ctx.get(RestApi.USER), device, body, System.currentTimeMillis());
    } catch (IllegalArgumentException e) {
      RestApi.error(ctx, ErrorCode.BAD_REQUEST, e.getMessage());
      return;
    }
    RestApi.respond(ctx, () -> registrations.put(r, devicesMax), stored -> ctx.response().setStatusCode(204).end());
  }

  /** The registration a body asks for; IllegalArgumentException with the client's message when invalid. */
  PushRegistration parse(String user, String device, JsonObject body, long now) {
    Object provider = body.getValue("provider");
    if (!(provider instanceof String p) || !List.of(PushRegistration.APNS, PushRegistration.FCM, PushRegistration.WEBPUSH).contains(p)) {
      throw new IllegalArgumentException("'provider' must be \"apns\", \"fcm\" or \"webpush\"");
    }
    if (!providers.contains(p)) {
      throw new IllegalArgumentException("push provider '" + p + "' is not configured on this server");
    }
    return switch (p) {
      case PushRegistration.APNS -> {
        String token = string(body, "token", APNS_TOKEN, "'token' must be the APNs device token in hex");
        JsonObject params = new JsonObject();
        if (body.getValue("topic") != null || apnsTopic.isEmpty()) {
          // none: push.apns.topic when sending (so a change of the setting reaches every device)
          params.put("topic", string(body, "topic", APNS_TOPIC, "'topic' must be the app's bundle id"
              + (apnsTopic.isEmpty() ? " (this server has no default topic)" : "")));
        }
        Object sandbox = body.getValue("sandbox", false);
        if (!(sandbox instanceof Boolean sb)) {
          throw new IllegalArgumentException("'sandbox' must be true or false");
        }
        yield new PushRegistration(user, device, p, token.toLowerCase(), params.put("sandbox", sb), now, now);
      }
      case PushRegistration.FCM -> new PushRegistration(user, device, p,
          string(body, "token", FCM_TOKEN, "'token' must be the FCM registration token"), new JsonObject(), now, now);
      default -> webPush(user, device, body, now);
    };
  }

  private static PushRegistration webPush(String user, String device, JsonObject body, long now) {
    if (!(body.getValue("subscription") instanceof JsonObject sub)) {
      throw new IllegalArgumentException("'subscription' must be the browser's PushSubscription as JSON");
    }
    if (!(sub.getValue("endpoint") instanceof String endpoint) || !validEndpoint(endpoint)) {
      throw new IllegalArgumentException("'subscription.endpoint' must be an https URL (http only on a loopback host)");
    }
    if (!(sub.getValue("keys") instanceof JsonObject keys)) {
      throw new IllegalArgumentException("'subscription.keys' must hold p256dh and auth");
    }
    byte[] p256dh = base64url(keys.getValue("p256dh"));
    try {
      WebPushCrypto.publicKey(p256dh == null ? new byte[0] : p256dh);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("'subscription.keys.p256dh' must be a P-256 public key (base64url, uncompressed)");
    }
    byte[] authSecret = base64url(keys.getValue("auth"));
    if (authSecret == null || authSecret.length != 16) {
      throw new IllegalArgumentException("'subscription.keys.auth' must be 16 bytes in base64url");
    }
    Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
    return new PushRegistration(user, device, PushRegistration.WEBPUSH, endpoint,
        new JsonObject().put("p256dh", enc.encodeToString(p256dh)).put("auth", enc.encodeToString(authSecret)), now, now);
  }

  static boolean validEndpoint(String endpoint) {
    if (endpoint.length() > ENDPOINT_MAX) {
      return false;
    }
    try {
      URI u = new URI(endpoint);
      String host = u.getHost();
      if (host == null || u.getRawUserInfo() != null || u.getRawFragment() != null) {
        return false;
      }
      return "https".equals(u.getScheme())
          || ("http".equals(u.getScheme()) && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]")));
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private static byte[] base64url(Object v) {
    if (!(v instanceof String s) || s.isEmpty() || s.length() > 200) {
      return null;
    }
    try {
      return Base64.getUrlDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String string(JsonObject body, String field, Pattern pattern, String message) {
    if (!(body.getValue(field) instanceof String s) || !pattern.matcher(s).matches()) {
      throw new IllegalArgumentException(message);
    }
    return s;
  }

  private void unregister(RoutingContext ctx) {
    String device = device(ctx);
    if (device != null) {
      RestApi.respond(ctx, () -> registrations.remove(ctx.get(RestApi.USER), device),
          removed -> ctx.response().setStatusCode(204).end());
    }
  }

  /**
   * The caller's devices: those with a push registration and those connected now (a connected
   * device without one shows {@code provider: null}). {@code online} is from the connection
   * registry, asked once for the caller.
   */
  private void list(RoutingContext ctx) {
    String user = ctx.get(RestApi.USER);
    RestApi.respond(ctx, () -> registrations.list(user).compose(regs -> registry.connectionsOf(List.of(user))
        .map(conns -> {
          Set<String> online = new HashSet<>();
          for (String id : conns.getOrDefault(user, Set.of())) {
            String d = ConnectionIds.device(id);
            if (d != null) {
              online.add(d);
            }
          }
          TreeMap<String, JsonObject> byId = new TreeMap<>();
          for (PushRegistration r : regs) {
            byId.put(r.device(), new JsonObject().put("id", r.device()).put("provider", r.provider())
                .put("registered_at", r.registeredAt()).put("last_seen", r.lastSeen()).put("online", online.contains(r.device())));
          }
          for (String d : online) {
            byId.computeIfAbsent(d, k -> new JsonObject().put("id", k).putNull("provider").putNull("registered_at")
                .putNull("last_seen").put("online", true));
          }
          return new JsonObject().put("devices", new JsonArray(List.copyOf(byId.values())));
        })), json -> GatewayVerticle.json(ctx, 200, json));
  }

  private static String device(RoutingContext ctx) {
    String device = ctx.pathParam("device");
    if (device == null || !ClientFrame.DEVICE_ID.matcher(device).matches()) {
      RestApi.error(ctx, ErrorCode.BAD_REQUEST, "device must match [A-Za-z0-9_-]{1,64}");
      return null;
    }
    return device;
  }
}
