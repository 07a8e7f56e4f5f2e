package io.parley.push;

import io.parley.config.ConfigException;
import io.parley.config.PushSettings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What APNs is reached with, read from the files named in config: the authentication key (Apple's
 * {@code .p8} download, a PKCS#8 PEM EC P-256 private key) with its key id and team id, which sign
 * the provider tokens, and optionally the certificates trusted for the TLS connection
 * ({@code push.apns.ca_file}). The key is never logged: {@link #toString()} leaves it out.
 */
public final class ApnsCredentials {
  private static final Pattern PEM = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  private final String keyId;
  private final String teamId;
  private final String privateKeyPem;
  private final String trustedCaPem;

  ApnsCredentials(String keyId, String teamId, String privateKeyPem, String trustedCaPem) {
    this.keyId = keyId;
    this.teamId = teamId;
    this.privateKeyPem = privateKeyPem;
    this.trustedCaPem = trustedCaPem;
  }

  /** The provider token's {@code kid}. */
  public String keyId() {
    return keyId;
  }

  /** The provider token's {@code iss}. */
  public String teamId() {
    return teamId;
  }

  /** The EC private key, PKCS#8 in PEM, as in the key file. */
  String privateKeyPem() {
    return privateKeyPem;
  }

  /** PEM certificates to trust instead of the JDK's; empty for the JDK's. */
  String trustedCaPem() {
    return trustedCaPem;
  }

  @Override
  public String toString() {
    return "ApnsCredentials[key " + keyId + ", team " + teamId + (trustedCaPem.isEmpty() ? "" : ", own CA") + "]";
  }

  /**
   * The credentials in force, or empty when APNs is off ({@code push.apns.key_file} empty; the
   * loader has checked the key id and team id). A key file that cannot be read or holds no P-256
   * private key, or a CA file without a certificate, is a configuration error naming the key.
   * Blocking.
   */
  public static Optional<ApnsCredentials> resolve(PushSettings settings) {
    if (!settings.apnsOn()) {
      return Optional.empty();
    }
    Path file = Path.of(settings.apnsKeyFile());
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
      privateKey(pem);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("push.apns.key_file: cannot read an APNs authentication key (.p8) from " + file + ": "
          + e.getMessage());
    }
    String ca = "";
    if (!settings.apnsCaFile().isEmpty()) {
      Path caFile = Path.of(settings.apnsCaFile());
      try {
        ca = Files.readString(caFile, StandardCharsets.US_ASCII);
        if (CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(ca.getBytes(StandardCharsets.US_ASCII)))
            .isEmpty()) {
          throw new CertificateException("no certificate");
        }
      } catch (IOException | CertificateException e) {
        throw new ConfigException("push.apns.ca_file: cannot read PEM certificates from " + caFile + ": " + e.getMessage());
      }
    }
    return Optional.of(new ApnsCredentials(settings.apnsKeyId(), settings.apnsTeamId(), pem, ca));
  }

  /** The P-256 key of a PEM {@code PRIVATE KEY} (PKCS#8); IllegalArgumentException saying what is wrong. */
  static ECPrivateKey privateKey(String pem) {
    Matcher m = PEM.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException("not a PEM PRIVATE KEY (PKCS#8)");
    }
    ECPrivateKey key;
    try {
      byte[] der = Base64.getMimeDecoder().decode(m.group(1));
      key = (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | ClassCastException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not an EC private key");
    }
    if (key.getParams().getCurve().getField().getFieldSize() != 256) {
      throw new IllegalArgumentException("not a P-256 key (ES256)");
    }
    return key;
  }
}
