/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits from
 * `crypto.getRandomValues`. Ids made later sort later (to the millisecond), which keeps an
 * outbox's msg_ids in send order and makes them easy to find in the server's logs.
 *
 * @param {number} [nowMs] the time to encode (default `Date.now()`)
 * @returns {string} e.g. `0190c6e4-9c1a-7b3e-8f1d-2a4b6c8d0e1f`
 */
export function uuidv7(nowMs = Date.now()) {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  let ms = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70; // version 7
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
