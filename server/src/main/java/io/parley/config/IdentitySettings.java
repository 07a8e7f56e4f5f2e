package io.parley.config;

import java.util.List;

/**
 * Production identity, TLS and log format (keys {@code auth.*}, {@code http.tls.*}, {@code log.format};
 * defaults in conf/base.json).
 *
 * @param jwksUrl {@code auth.jwks_url}: where RS256 and ES256 verification keys are fetched (a JWKS
 *     document), empty for none (HS256 with {@code jwt.secret} only)
 * @param issuer {@code auth.issuer}: the {@code iss} every token must carry, empty to accept any
 * @param audiences {@code auth.audience}: accepted {@code aud} values (one of the token's must be
 *     among them), empty to accept any
 * @param tlsCertFile {@code http.tls.cert_file}: PEM certificate chain of the public listener, empty for
 *     plain HTTP
 * @param tlsKeyFile {@code http.tls.key_file}: PEM private key of that certificate (set with the
 *     certificate or not at all)
 * @param logFormat {@code log.format}: {@code text} (the pattern of logback.xml) or {@code json} (one
 *     JSON object a line, with a connection's or request's user, device and node as fields)
 */
public record IdentitySettings(String jwksUrl, String issuer, List<String> audiences, String tlsCertFile,
    String tlsKeyFile, String logFormat) {
  public static final List<String> LOG_FORMATS = List.of("text", "json");
  /** HS256 only, plain HTTP, text logs: the defaults. */
  public static final IdentitySettings DEFAULTS = new IdentitySettings("", "", List.of(), "", "", "text");

  public IdentitySettings {
    audiences = List.copyOf(audiences);
  }

  public boolean tls() {
    return !tlsCertFile.isEmpty();
  }
}
