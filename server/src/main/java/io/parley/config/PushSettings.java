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
    String fcmServiceAccountFile, String fcmProjectId, String fcmBaseUrl, String apnsKeyFile, String apnsKeyId,
    String apnsTeamId, String apnsTopic, String apnsBaseUrl, String apnsSandboxBaseUrl, String apnsCaFile) {

  /** APNs is on: a key file is configured (the loader checked its key id and team id are too). */
  public boolean apnsOn() {
    return !apnsKeyFile.isEmpty();
  }
}
