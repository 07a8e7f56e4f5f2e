package io.parley.pushfakes;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECFieldFp;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The browser's side of Web Push encryption, written apart from the server's sender (so a push
 * that decrypts here was encrypted by the RFC, not by the same code): P-256 key pairs and points,
 * and the decryption of one {@code aes128gcm} record (RFC 8291 key derivation over RFC 8188).
 */
public final class UserAgentCrypto {
  private static final ECParameterSpec P256 = p256();

  private UserAgentCrypto() {}

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
    BigInteger p = ((ECFieldFp) P256.getCurve().getField()).getP();
    BigInteger rhs = x.pow(3).add(P256.getCurve().getA().multiply(x)).add(P256.getCurve().getB()).mod(p);
    if (x.compareTo(p) >= 0 || y.compareTo(p) >= 0 || !y.pow(2).mod(p).equals(rhs)) {
      throw new GeneralSecurityException("the point is not on P-256");
    }
    return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(new ECPoint(x, y), P256));
  }

  /**
   * Decrypts an {@code aes128gcm} body (one record: {@code salt(16) | rs(4) | idlen(1) | keyid =
   * the sender's ephemeral public key | ciphertext}) with the subscription's keys.
   */
  public static byte[] decrypt(byte[] body, ECPrivateKey uaPrivate, byte[] uaPublic, byte[] auth)
      throws GeneralSecurityException {
    ByteBuffer b = ByteBuffer.wrap(body);
    if (body.length < 21) {
      throw new GeneralSecurityException("shorter than the aes128gcm header");
    }
    byte[] salt = new byte[16];
    b.get(salt);
    int rs = b.getInt();
    int idlen = b.get() & 0xff;
    if (b.remaining() < idlen) {
      throw new GeneralSecurityException("keyid longer than the body");
    }
    byte[] asPublic = new byte[idlen];
    b.get(asPublic);
    byte[] ciphertext = new byte[b.remaining()];
    b.get(ciphertext);
    if (ciphertext.length + 16 > rs + 16 + 1 + idlen + 16 || ciphertext.length < 17) {
      throw new GeneralSecurityException("one record expected");
    }
    KeyAgreement ka = KeyAgreement.getInstance("ECDH");
    ka.init(uaPrivate);
    ka.doPhase(publicKey(asPublic), true);
    byte[] ecdh = ka.generateSecret();
    // RFC 8291 §3.3: IKM = HKDF(auth, ecdh, "WebPush: info" 0x00 ua_public as_public, 32)
    byte[] ikm = hkdf(auth, ecdh, concat("WebPush: info\0".getBytes(StandardCharsets.US_ASCII), uaPublic, asPublic), 32);
    // RFC 8188 §2.2-2.3: CEK and nonce from the salt and IKM
    byte[] cek = hkdf(salt, ikm, "Content-Encoding: aes128gcm\0".getBytes(StandardCharsets.US_ASCII), 16);
    byte[] nonce = hkdf(salt, ikm, "Content-Encoding: nonce\0".getBytes(StandardCharsets.US_ASCII), 12);
    Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
    gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(cek, "AES"), new GCMParameterSpec(128, nonce));
    byte[] padded = gcm.doFinal(ciphertext);
    int end = padded.length - 1;
    while (end >= 0 && padded[end] == 0) {
      end--;
    }
    if (end < 0 || padded[end] != 2) {
      throw new GeneralSecurityException("the last record's delimiter (2) is missing");
    }
    return Arrays.copyOf(padded, end);
  }

  /** HKDF-SHA-256 (RFC 5869) for at most one block of output. */
  private static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info, int length) throws GeneralSecurityException {
    byte[] prk = hmac(salt, ikm);
    return Arrays.copyOf(hmac(prk, concat(info, new byte[] {1})), length);
  }

  private static byte[] hmac(byte[] key, byte[] data) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(data);
  }

  private static byte[] concat(byte[]... parts) {
    ByteBuffer b = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(p -> p.length).sum());
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  private static void unsigned(BigInteger v, byte[] out, int offset) {
    byte[] b = v.toByteArray();
    int len = Math.min(b.length, 32);
    System.arraycopy(b, b.length - len, out, offset + 32 - len, len);
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
