package io.parley.push;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Firebase service account FCM is reached with: the fields of its JSON key file that the
 * OAuth2 JWT-bearer grant needs ({@code client_email}, the PKCS#8 PEM {@code private_key},
 * {@code token_uri}) and the project messages go through. The private key is never logged:
 * {@link #toString()} leaves it out.
 */
public final class FcmServiceAccount {
  private static final Pattern PEM = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private final String clientEmail;
  private final String privateKeyPem;
  private final String tokenUri;
  private final String projectId;

  FcmServiceAccount(String clientEmail, String privateKeyPem, String tokenUri, String projectId) {
    this.clientEmail = clientEmail;
    this.privateKeyPem = privateKeyPem;
    this.tokenUri = tokenUri;
    this.projectId = projectId;
  }

  public String clientEmail() {
    return clientEmail;
  }

  /** The RSA private key, PKCS#8 in PEM, as in the key file. */
  String privateKeyPem() {
    return privateKeyPem;
  }

  /** Where access tokens are obtained (the assertion's {@code aud}). */
  public String tokenUri() {
    return tokenUri;
  }

  public String projectId() {
    return projectId;
  }

  @Override
  public String toString() {
    return "FcmServiceAccount[" + clientEmail + ", project " + projectId + ", token_uri " + tokenUri + "]";
  }

  /**
   * The account in force, or empty when FCM is off ({@code push.fcm.service_account_file} empty).
   * The project is {@code push.fcm.project_id}, else the file's {@code project_id}; a file that
   * cannot be read or lacks a field, or no project either way, is a configuration error naming
   * the key. Blocking.
   */
  public static Optional<FcmServiceAccount> resolve(PushSettings settings) {
    if (settings.fcmServiceAccountFile().isEmpty()) {
      return Optional.empty();
    }
    Path file = Path.of(settings.fcmServiceAccountFile());
    FcmServiceAccount account;
    try {
      account = parse(Files.readString(file, StandardCharsets.UTF_8), settings.fcmProjectId());
    } catch (IOException | IllegalArgumentException | DecodeException e) {
      throw new ConfigException("push.fcm.service_account_file: cannot read a service account key from " + file + ": "
          + e.getMessage());
    }
    if (account.projectId.isEmpty()) {
      throw new ConfigException("push.fcm.project_id: required, " + file + " names no project_id");
    }
    return Optional.of(account);
  }

  /**
   * A service account from its JSON key file; {@code projectId} overrides the file's when not
   * empty. IllegalArgumentException naming the field that is missing or unusable.
   */
  static FcmServiceAccount parse(String json, String projectId) {
    JsonObject o = new JsonObject(json);
    String email = field(o, "client_email");
    String pem = field(o, "private_key");
    String tokenUri = field(o, "token_uri");
    URI u = URI.create(tokenUri);
    if (!("https".equals(u.getScheme()) || "http".equals(u.getScheme())) || u.getHost() == null) {
      throw new IllegalArgumentException("token_uri must be an http(s) URL");
    }
    privateKey(pem);
    String project = projectId.isEmpty() ? o.getString("project_id", "") : projectId;
    return new FcmServiceAccount(email, pem, tokenUri, project);
  }

  private static String field(JsonObject o, String name) {
    if (!(o.getValue(name) instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("'" + name + "' is missing");
    }
    return s;
  }

  /** The RSA key of a PEM {@code PRIVATE KEY} (PKCS#8). */
  static RSAPrivateKey privateKey(String pem) {
    Matcher m = PEM.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException("'private_key' is not a PEM PRIVATE KEY (PKCS#8)");
    }
    try {
      byte[] der = Base64.getMimeDecoder().decode(m.group(1));
      return (RSAPrivateKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IllegalArgumentException("'private_key' is not an RSA private key");
    }
  }
}
