package io.parley.config;

/**
 * Settings of offline push (package {@code io.parley.push}).
 *
 * @param devicesMax the most devices with a push registration per user ({@code push.devices_max})
 * @param previewChars characters (code points) of the message body a notification carries; 0 sends
 *     metadata only ({@code push.preview_chars})
 * @param webPushVapidKeyFile PEM file with the VAPID key pair (PKCS#8 private key, then the SPKI
 *     public key); empty: generated once into the data dir on the embedded profile, Web Push off on
 *     the cluster profile ({@code push.webpush.vapid_key_file})
 * @param webPushSubject the VAPID {@code sub} claim, a {@code mailto:} or {@code https:} URI the push
 *     services can reach the operator at; empty: no {@code sub} claim ({@code push.webpush.subject})
 * @param fcmServiceAccountFile the Firebase service account's JSON key file (its {@code client_email},
 *     {@code private_key} and {@code token_uri} obtain the OAuth2 access tokens); empty: FCM off
 *     ({@code push.fcm.service_account_file})
 * @param fcmProjectId the Firebase project messages are sent through; empty: the key file's
 *     {@code project_id} ({@code push.fcm.project_id})
 * @param fcmBaseUrl where the FCM HTTP v1 API is, {@code scheme://host[:port]} without a trailing
 *     slash ({@code push.fcm.base_url}; plain {@code http} for local fakes)
 * @param webPushEnabled false turns Web Push off even where a VAPID key would be generated
 *     ({@code push.webpush.enabled})
 * @param smtpHost the SMTP server push digests are sent through; empty: no digests, pushes that wait
 *     too long are not spilled over to email ({@code push.smtp.host})
 * @param smtpPort its port ({@code push.smtp.port})
 * @param smtpFrom the digests' {@code From} address ({@code push.smtp.from})
 * @param smtpStarttls {@code DISABLED}, {@code OPTIONAL} (upgrade when the server offers it) or
 *     {@code REQUIRED} ({@code push.smtp.starttls})
 * @param smtpUsername the SMTP login; empty: none ({@code push.smtp.username})
 * @param smtpPassword its password ({@code push.smtp.password}); never printed by {@link #toString()}
 */
public record PushSettings(int devicesMax, int previewChars, String webPushVapidKeyFile, String webPushSubject,
    String fcmServiceAccountFile, String fcmProjectId, String fcmBaseUrl, boolean webPushEnabled, String smtpHost,
    int smtpPort, String smtpFrom, String smtpStarttls, String smtpUsername, String smtpPassword) {

  /** Values of {@code push.smtp.starttls}. */
  public static final java.util.List<String> STARTTLS = java.util.List.of("DISABLED", "OPTIONAL", "REQUIRED");

  @Override
  public String toString() {
    return "PushSettings[devicesMax=" + devicesMax + ", previewChars=" + previewChars + ", webPushVapidKeyFile="
        + webPushVapidKeyFile + ", webPushSubject=" + webPushSubject + ", fcmServiceAccountFile=" + fcmServiceAccountFile
        + ", fcmProjectId=" + fcmProjectId + ", fcmBaseUrl=" + fcmBaseUrl + ", webPushEnabled=" + webPushEnabled
        + ", smtpHost=" + smtpHost + ", smtpPort=" + smtpPort + ", smtpFrom=" + smtpFrom + ", smtpStarttls=" + smtpStarttls
        + ", smtpUsername=" + smtpUsername + ", smtpPassword=" + (smtpPassword.isEmpty() ? "" : "***") + "]";
  }
}
