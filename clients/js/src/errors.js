/**
 * An error the server answered with (an `error` frame or an HTTP error body), or one the client
 * raised itself with the same kind of code (`too_large` before sending, `cancelled`, `closed`).
 * `code` is one of docs/protocol.md's stable error codes, or `network` when no answer came.
 */
export class ParleyError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{status?: number, retryAfterMs?: number, conv?: string, msgId?: string}} [details]
   */
  constructor(code, message, details = {}) {
    super(message || code);
    this.name = 'ParleyError';
    this.code = code;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.conv = details.conv;
    this.msgId = details.msgId;
  }
}
