package io.parley.push;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.parley.pushfakes.FakePushService;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * {@link WebPushCrypto}: the worked example of RFC 8291 Appendix A byte for byte, a round trip
 * through the user agent's side ({@link FakePushService#decrypt}) with fresh keys, and refusal of
 * keys that are not uncompressed P-256 points.
 */
class WebPushCryptoTest {
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  @Test
  void rfc8291AppendixA() throws Exception {
    byte[] plaintext = "When I grow up, I want to be a watermelon".getBytes(StandardCharsets.UTF_8);
    byte[] asPrivate = B64.decode("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw");
    byte[] asPublic = B64.decode("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    byte[] uaPublic = B64.decode("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
    byte[] uaPrivate = B64.decode("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94");
    byte[] auth = B64.decode("BTBZMqHH6r4Tts7J_aSIgg");
    byte[] salt = B64.decode("DGv6ra1nlYgDCS1FRnbzlw");
    KeyPair as = new KeyPair(WebPushCrypto.publicKey(asPublic), WebPushCrypto.privateKey(asPrivate));

    byte[] body = WebPushCrypto.encrypt(plaintext, uaPublic, auth, as, salt);

    assertThat(Base64.getUrlEncoder().withoutPadding().encodeToString(body)).isEqualTo(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl"
            + "7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
    assertThat(FakePushService.decrypt(body, WebPushCrypto.privateKey(uaPrivate), uaPublic, auth)).isEqualTo(plaintext);
  }

  @Test
  void roundTripWithFreshKeys() throws Exception {
    KeyPair ua = WebPushCrypto.newKeyPair();
    byte[] uaPublic = WebPushCrypto.point((ECPublicKey) ua.getPublic());
    byte[] auth = new byte[16];
    auth[3] = 9;
    byte[] plaintext = "{\"conv\":\"1\",\"preview\":\"h\u00e9llo \ud83d\ude00\"}".getBytes(StandardCharsets.UTF_8);

    byte[] one = WebPushCrypto.encrypt(plaintext, uaPublic, auth);
    byte[] two = WebPushCrypto.encrypt(plaintext, uaPublic, auth);

    assertThat(one).as("fresh salt and key every time").isNotEqualTo(two);
    assertThat(FakePushService.decrypt(one, (java.security.interfaces.ECPrivateKey) ua.getPrivate(), uaPublic, auth))
        .isEqualTo(plaintext);
    byte[] wrongAuth = new byte[16];
    assertThatThrownBy(() -> FakePushService.decrypt(two, (java.security.interfaces.ECPrivateKey) ua.getPrivate(), uaPublic,
        wrongAuth)).isInstanceOf(GeneralSecurityException.class);
  }

  @Test
  void refusesKeysThatAreNotUncompressedPoints() {
    assertThatThrownBy(() -> WebPushCrypto.publicKey(new byte[33])).isInstanceOf(GeneralSecurityException.class);
    byte[] offCurve = new byte[65];
    offCurve[0] = 4;
    offCurve[64] = 1;
    assertThatThrownBy(() -> WebPushCrypto.encrypt(new byte[1], offCurve, new byte[16]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
