package io.parley.push;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Web Push message encryption (RFC 8291) in the {@code aes128gcm} content coding (RFC 8188), with
 * the JDK's primitives only: ECDH on P-256, HKDF-SHA-256 (as HMACs), AES-128-GCM. One record:
 * {@code salt(16) | rs(4) | idlen(1) | keyid = the sender's ephemeral public key (65) | ciphertext}.
 */
public final class WebPushCrypto {
  /** The record size announced in the header; a push message is one record well below it. */
  static final int RECORD_SIZE = 4096;
  private static final SecureRandom RANDOM = new SecureRandom();
  static final ECParameterSpec P256 = p256();

  private WebPushCrypto() {}

  /** Encrypts {@code plaintext} for a subscription with a fresh ephemeral key pair and salt. */
  public static byte[] encrypt(byte[] plaintext, byte[] uaPublic, byte[] authSecret) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return encrypt(plaintext, uaPublic, authSecret, newKeyPair(), salt);
  }

  /** Encrypts with a given ephemeral key pair and salt (the RFC's test vector fixes both). */
  static byte[] encrypt(byte[] plaintext, byte[] uaPublic, byte[] authSecret, KeyPair as, byte[] salt) {
    try {
      byte[] asPublic = point((ECPublicKey) as.getPublic());
      byte[] ecdh = ecdh((ECPrivateKey) as.getPrivate(), publicKey(uaPublic));
      byte[][] keyNonce = contentKeys(ecdh, authSecret, uaPublic, asPublic, salt);
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keyNonce[0], "AES"), new GCMParameterSpec(128, keyNonce[1]));
      byte[] padded = Arrays.copyOf(plaintext, plaintext.length + 1);
      padded[plaintext.length] = 2; // the last record's delimiter, no padding
      byte[] ciphertext = gcm.doFinal(padded);
      return ByteBuffer.allocate(16 + 4 + 1 + asPublic.length + ciphertext.length)
          .put(salt).putInt(RECORD_SIZE).put((byte) asPublic.length).put(asPublic).put(ciphertext).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot encrypt for this subscription: " + e.getMessage(), e);
    }
  }

  /**
   * The content-encryption key (16 bytes) and nonce (12 bytes) of RFC 8291 §3.3-3.4 and RFC 8188
   * §2.2-2.3, shared by the sender (here) and the user agent (the tests' fake push service).
   */
  static byte[][] contentKeys(byte[] ecdh, byte[] authSecret, byte[] uaPublic, byte[] asPublic, byte[] salt)
      throws GeneralSecurityException {
    byte[] prkKey = hmac(authSecret, ecdh);
    byte[] keyInfo = concat("WebPush: info".getBytes(StandardCharsets.US_ASCII), new byte[] {0}, uaPublic, asPublic,
        new byte[] {1});
    byte[] ikm = hmac(prkKey, keyInfo);
    byte[] prk = hmac(salt, ikm);
    byte[] cek = Arrays.copyOf(hmac(prk, concat("Content-Encoding: aes128gcm".getBytes(StandardCharsets.US_ASCII),
        new byte[] {0, 1})), 16);
    byte[] nonce = Arrays.copyOf(hmac(prk, concat("Content-Encoding: nonce".getBytes(StandardCharsets.US_ASCII),
        new byte[] {0, 1})), 12);
    return new byte[][] {cek, nonce};
  }

  static byte[] ecdh(ECPrivateKey mine, ECPublicKey theirs) throws GeneralSecurityException {
    KeyAgreement ka = KeyAgreement.getInstance("ECDH");
    ka.init(mine);
    ka.doPhase(theirs, true);
    return ka.generateSecret();
  }

  static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data);
  }

  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("P-256 is required of every JVM", e);
    }
  }

  /** The uncompressed point {@code 0x04 | x | y} (65 bytes) of a P-256 public key. */
  public static byte[] point(ECPublicKey key) {
    byte[] out = new byte[65];
    out[0] = 4;
    unsigned(key.getW().getAffineX(), out, 1);
    unsigned(key.getW().getAffineY(), out, 33);
    return out;
  }

  /** A P-256 public key from its uncompressed point; fails on anything else, or a point off the curve. */
  public static ECPublicKey publicKey(byte[] point) throws GeneralSecurityException {
    if (point.length != 65 || point[0] != 4) {
      throw new GeneralSecurityException("not an uncompressed P-256 point (65 bytes starting with 0x04)");
    }
    BigInteger x = new BigInteger(1, Arrays.copyOfRange(point, 1, 33));
    BigInteger y = new BigInteger(1, Arrays.copyOfRange(point, 33, 65));
    BigInteger p = ((java.security.spec.ECFieldFp) P256.getCurve().getField()).getP();
    BigInteger rhs = x.pow(3).add(P256.getCurve().getA().multiply(x)).add(P256.getCurve().getB()).mod(p);
    if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0 || !y.pow(2).mod(p).equals(rhs)) {
      throw new GeneralSecurityException("the point is not on P-256");
    }
    ECPoint w = new ECPoint(x, y);
    return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, P256));
  }

  /** A P-256 private key from its 32-byte scalar. */
  static ECPrivateKey privateKey(byte[] scalar) throws GeneralSecurityException {
    return (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new ECPrivateKeySpec(new BigInteger(1, scalar), P256));
  }

  private static void unsigned(BigInteger v, byte[] out, int offset) {
    byte[] b = v.toByteArray();
    int len = Math.min(b.length, 32);
    System.arraycopy(b, b.length - len, out, offset + 32 - len, len);
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  private static ECParameterSpec p256() {
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec("secp256r1"));
      return p.getParameterSpec(ECParameterSpec.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("P-256 is required of every JVM", e);
    }
  }
}
