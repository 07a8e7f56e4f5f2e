package io.parley.push;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VAPID key pair (RFC 8292) that identifies this server to Web Push services: a P-256 key
 * whose public half browsers pass to {@code pushManager.subscribe} and whose private half signs the
 * ES256 JWT in every push request's {@code Authorization: vapid t=…, k=…}. Kept in a PEM file: the
 * PKCS#8 private key, then the SPKI public key (what {@code openssl pkcs8 -topk8} and
 * {@code openssl ec -pubout} print). Never logged.
 */
public final class VapidKeys {
  private static final Logger LOG = LoggerFactory.getLogger(VapidKeys.class);
  private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
  /** The file generated on the embedded profile when {@code push.webpush.vapid_key_file} is empty. */
  public static final String GENERATED_FILE = "vapid.pem";

  private final ECPrivateKey privateKey;
  private final ECPublicKey publicKey;
  private final String publicKeyBase64Url;

  VapidKeys(ECPrivateKey privateKey, ECPublicKey publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.publicKeyBase64Url = B64URL.encodeToString(WebPushCrypto.point(publicKey));
  }

  public static VapidKeys generate() {
    KeyPair kp = WebPushCrypto.newKeyPair();
    return new VapidKeys((ECPrivateKey) kp.getPrivate(), (ECPublicKey) kp.getPublic());
  }

  /** The application server key: the public key's uncompressed point, base64url without padding. */
  public String publicKeyBase64Url() {
    return publicKeyBase64Url;
  }

  ECPublicKey publicKey() {
    return publicKey;
  }

  /** A VAPID JWT (ES256) for one push service origin, valid until {@code expiresAt} (epoch seconds). */
  public String jwt(String audience, long expiresAt, String subject) {
    JsonObject claims = new JsonObject().put("aud", audience).put("exp", expiresAt);
    if (subject != null && !subject.isEmpty()) {
      claims.put("sub", subject);
    }
    String signingInput = B64URL.encodeToString("{\"typ\":\"JWT\",\"alg\":\"ES256\"}".getBytes(StandardCharsets.UTF_8))
        + "." + B64URL.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    return signingInput + "." + B64URL.encodeToString(sign(signingInput.getBytes(StandardCharsets.US_ASCII)));
  }

  private byte[] sign(byte[] data) {
    try {
      // JWS wants r | s (RFC 7518 §3.4), which is the P1363 format, not DER
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(privateKey);
      s.update(data);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ES256 signing failed", e);
    }
  }

  /** Reads a key file; fails when it lacks either half or the halves do not belong together. Blocking. */
  public static VapidKeys load(Path file) throws IOException, GeneralSecurityException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    ECPrivateKey priv = null;
    ECPublicKey pub = null;
    Matcher m = PEM.matcher(text);
    KeyFactory kf = KeyFactory.getInstance("EC");
    while (m.find()) {
      byte[] der = Base64.getMimeDecoder().decode(m.group(2));
      if (m.group(1).equals("PRIVATE KEY")) {
        priv = (ECPrivateKey) kf.generatePrivate(new PKCS8EncodedKeySpec(der));
      } else if (m.group(1).equals("PUBLIC KEY")) {
        pub = (ECPublicKey) kf.generatePublic(new X509EncodedKeySpec(der));
      }
    }
    if (priv == null || pub == null) {
      throw new GeneralSecurityException("expected a PEM 'PRIVATE KEY' (PKCS#8) and a PEM 'PUBLIC KEY' (SPKI)");
    }
    if (priv.getParams().getCurve().getField().getFieldSize() != 256 || !pub.getParams().getCurve().equals(WebPushCrypto.P256.getCurve())) {
      throw new GeneralSecurityException("the key is not on P-256");
    }
    VapidKeys keys = new VapidKeys(priv, pub);
    Signature verify = Signature.getInstance("SHA256withECDSAinP1363Format");
    verify.initVerify(pub);
    byte[] probe = "vapid".getBytes(StandardCharsets.US_ASCII);
    verify.update(probe);
    if (!verify.verify(keys.sign(probe))) {
      throw new GeneralSecurityException("the public key does not belong to the private key");
    }
    return keys;
  }

  /** Writes the key file with mode 600. Blocking. */
  public void write(Path file) throws IOException {
    String pem = pemBlock("PRIVATE KEY", privateKey.getEncoded()) + pemBlock("PUBLIC KEY", publicKey.getEncoded());
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, "", StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
  }

  private static String pemBlock(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /**
   * The keys in force, or empty when Web Push is off ({@code push.webpush.enabled} false, checked
   * first: no file is read or generated then): the configured file; else, on the embedded
   * profile, {@value #GENERATED_FILE} in the data dir, generated on first start; else (cluster
   * profile, no file) off. A file that cannot be read is a configuration error naming the key. Blocking.
   */
  public static Optional<VapidKeys> resolve(PushSettings settings, String profile, Path dataDir) {
    if (!settings.webPushEnabled()) {
      return Optional.empty();
    }
    String configured = settings.webPushVapidKeyFile();
    Path file;
    if (!configured.isEmpty()) {
      file = Path.of(configured);
    } else if ("embedded".equals(profile)) {
      file = dataDir.resolve(GENERATED_FILE);
      if (!Files.exists(file)) {
        try {
          generate().write(file);
        } catch (IOException e) {
          throw new ConfigException("push.webpush.vapid_key_file: cannot write a generated key to " + file + ": " + e.getMessage());
        }
        LOG.info("generated a VAPID key pair for Web Push in {}", file.toAbsolutePath());
      }
    } else {
      return Optional.empty();
    }
    try {
      return Optional.of(load(file));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new ConfigException("push.webpush.vapid_key_file: cannot read a VAPID key from " + file + ": " + e.getMessage());
    }
  }
}
