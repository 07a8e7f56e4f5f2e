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
 * @param apnsKeyFile the APNs authentication key ({@code .p8}: a PKCS#8 PEM EC P-256 private key)
 *     that signs the provider tokens; empty: APNs off ({@code push.apns.key_file})
 * @param apnsKeyId the key's 10-character id, the provider token's {@code kid}; required with a key
 *     file ({@code push.apns.key_id})
 * @param apnsTeamId the Apple developer team's 10-character id, the provider token's {@code iss};
 *     required with a key file ({@code push.apns.team_id})
 * @param apnsTopic the {@code apns-topic} (the app's bundle id) for registrations that name none;
 *     empty: registrations must name theirs ({@code push.apns.topic})
 * @param apnsBaseUrl APNs production, {@code scheme://host[:port]} ({@code push.apns.base_url})
 * @param apnsSandboxBaseUrl APNs development, for registrations with {@code sandbox: true}
 *     ({@code push.apns.sandbox_base_url})
 * @param apnsCaFile PEM certificates trusted for the APNs connection instead of the JDK's trust
 *     store (a local mock's certificate); empty: the JDK's ({@code push.apns.ca_file})
 */
public record PushSettings(int devicesMax, int previewChars, String webPushVapidKeyFile, String webPushSubject,
    String fcmServiceAccountFile, String fcmProjectId, String fcmBaseUrl, boolean webPushEnabled, String smtpHost,
    int smtpPort, String smtpFrom, String smtpStarttls, String smtpUsername, String smtpPassword, String apnsKeyFile,
    String apnsKeyId, String apnsTeamId, String apnsTopic, String apnsBaseUrl, String apnsSandboxBaseUrl, String apnsCaFile) {

  /** Values of {@code push.smtp.starttls}. */
  public static final java.util.List<String> STARTTLS = java.util.List.of("DISABLED", "OPTIONAL", "REQUIRED");

  /** APNs is on: a key file is configured (the loader checked its key id and team id are too). */
  public boolean apnsOn() {
    return !apnsKeyFile.isEmpty();
  }

  @Override
  public String toString() {
    return "PushSettings[devicesMax=" + devicesMax + ", previewChars=" + previewChars + ", webPushVapidKeyFile="
        + webPushVapidKeyFile + ", webPushSubject=" + webPushSubject + ", fcmServiceAccountFile=" + fcmServiceAccountFile
        + ", fcmProjectId=" + fcmProjectId + ", fcmBaseUrl=" + fcmBaseUrl + ", webPushEnabled=" + webPushEnabled
        + ", smtpHost=" + smtpHost + ", smtpPort=" + smtpPort + ", smtpFrom=" + smtpFrom + ", smtpStarttls=" + smtpStarttls
        + ", smtpUsername=" + smtpUsername + ", smtpPassword=" + (smtpPassword.isEmpty() ? "" : "***")
        + ", apnsKeyFile=" + apnsKeyFile + ", apnsKeyId=" + apnsKeyId + ", apnsTeamId=" + apnsTeamId + ", apnsTopic=" + apnsTopic
        + ", apnsBaseUrl=" + apnsBaseUrl + ", apnsSandboxBaseUrl=" + apnsSandboxBaseUrl + ", apnsCaFile=" + apnsCaFile + "]";
  }
}
