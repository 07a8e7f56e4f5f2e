import { ParleyError } from './errors.js';

/** `http(s)://host:port[/prefix]` without a trailing slash; `ws(s)://` is taken as `http(s)://`. */
export function httpBase(url) {
  return String(url).replace(/^ws(s?):\/\//i, 'http$1://').replace(/\/+$/, '');
}

/** Milliseconds from a `Retry-After` header (seconds or an HTTP date); undefined when absent or bad. */
function retryAfterMs(header, now = Date.now()) {
  if (!header) {
    return undefined;
  }
  const s = Number(header);
  if (Number.isFinite(s)) {
    return Math.max(0, s * 1000);
  }
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * Sends one request and returns the parsed body (null for 204), or throws a {@link ParleyError}
 * with the server's code (`network` when no answer came).
 */
export async function request(fetchImpl, base, method, path, token, body) {
  const headers = { Accept: 'application/json' };
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetchImpl(httpBase(base) + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ParleyError('network', `${method} ${path}: ${e?.message ?? e}`);
  }
  const text = await res.text().catch(() => '');
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (res.ok) {
    return json;
  }
  const err = json?.error;
  throw new ParleyError(err?.code ?? (res.status === 401 ? 'unauthorized' : 'http_' + res.status),
    `${method} ${path}: ${err?.message ?? res.statusText ?? res.status}`,
    { status: res.status, retryAfterMs: retryAfterMs(res.headers.get('Retry-After')) });
}

/**
 * A development token from `POST /v1/dev/token` (only where the server enables it: the embedded
 * profile by default).
 *
 * @param {string} url the server's base URL
 * @param {string} user
 * @param {{email?: string, fetch?: typeof fetch}} [options]
 * @returns {Promise<string>}
 */
export async function devToken(url, user, options = {}) {
  const body = { user };
  if (options.email !== undefined) {
    body.email = options.email;
  }
  const res = await request(options.fetch ?? globalThis.fetch, url, 'POST', '/v1/dev/token', null, body);
  return res.token;
}

const enc = encodeURIComponent;

/**
 * Parley's REST resources (docs/protocol.md, "REST" and "Devices and push"). Every call sends the
 * client's current token; a 401 asks the token supplier for a fresh one and tries once more.
 */
export class ParleyApi {
  #base;
  #token;
  #refresh;
  #fetch;
  #device;

  /**
   * @param {{baseUrl: () => Promise<string>, token: () => Promise<string>, refreshToken: () => Promise<string>,
   *   fetch?: typeof fetch, device?: string}} options
   */
  constructor({ baseUrl, token, refreshToken, fetch, device }) {
    this.#base = baseUrl;
    this.#token = token;
    this.#refresh = refreshToken;
    this.#fetch = fetch ?? ((...a) => globalThis.fetch(...a));
    this.#device = device ?? 'default';
  }

  /** Any route: `request('GET', '/v1/…')`. */
  async request(method, path, body) {
    const base = await this.#base();
    try {
      return await request(this.#fetch, base, method, path, await this.#token(), body);
    } catch (e) {
      if (e instanceof ParleyError && e.status === 401) {
        return request(this.#fetch, base, method, path, await this.#refresh(), body);
      }
      throw e;
    }
  }

  /** One page of the caller's conversations, newest activity first. */
  listConversations({ limit, cursor } = {}) {
    const q = new URLSearchParams();
    if (limit !== undefined) q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const qs = q.toString();
    return this.request('GET', '/v1/conversations' + (qs ? '?' + qs : ''));
  }

  /** Every conversation of the caller, newest activity first, page after page. */
  async *conversations({ pageSize = 200 } = {}) {
    let cursor;
    do {
      const page = await this.listConversations({ limit: pageSize, cursor });
      yield* page.conversations;
      cursor = page.next_cursor;
    } while (cursor);
  }

  getConversation(id) {
    return this.request('GET', `/v1/conversations/${enc(id)}`);
  }

  /** The DM with `user` (created, or the existing one). */
  createDm(user) {
    return this.request('POST', '/v1/conversations', { type: 'dm', members: [user] });
  }

  /** A group; the caller is a member and its owner. */
  createGroup({ name, members }) {
    const body = { type: 'group', members };
    if (name !== undefined) body.name = name;
    return this.request('POST', '/v1/conversations', body);
  }

  addMembers(id, users) {
    return this.request('POST', `/v1/conversations/${enc(id)}/members`, { users });
  }

  /** Removes `user` (oneself, or anyone when the caller owns the group). */
  async removeMember(id, user) {
    await this.request('DELETE', `/v1/conversations/${enc(id)}/members/${enc(user)}`);
  }

  async setMuted(id, muted) {
    await this.request('PUT', `/v1/conversations/${enc(id)}/settings`, { muted: !!muted });
  }

  /** One page of history: `{messages (newest first), next_cursor}`. */
  historyPage(conv, { before, limit } = {}) {
    const q = new URLSearchParams();
    if (before) q.set('before', before);
    if (limit !== undefined) q.set('limit', String(limit));
    const qs = q.toString();
    return this.request('GET', `/v1/conversations/${enc(conv)}/messages` + (qs ? '?' + qs : ''));
  }

  /**
   * History pages, newest first, from `before` (exclusive; default: the newest message) back to the
   * conversation's first message: `for await (const page of api.history(conv)) …`.
   */
  async *history(conv, { before, limit = 50 } = {}) {
    let cursor = before;
    do {
      const page = await this.historyPage(conv, { before: cursor, limit });
      yield page;
      cursor = page.next_cursor;
    } while (cursor);
  }

  /** `{devices: [...]}`: devices with a push registration, and connected ones. */
  listDevices() {
    return this.request('GET', '/v1/devices');
  }

  /**
   * Registers a push address for `device` (default: this client's device): `{provider: 'webpush',
   * subscription: pushSubscription.toJSON()}`, `{provider: 'fcm', token}` or `{provider: 'apns', token, topic?, sandbox?}`.
   */
  async registerPush(registration, device = this.#device) {
    await this.request('PUT', `/v1/devices/${enc(device)}/push`, registration);
  }

  async unregisterPush(device = this.#device) {
    await this.request('DELETE', `/v1/devices/${enc(device)}/push`);
  }

  /** The server's VAPID public key (base64url) for `pushManager.subscribe`, or null when Web Push is off. */
  async webPushKey() {
    try {
      const res = await request(this.#fetch, await this.#base(), 'GET', '/v1/push/webpush-key', null);
      return res.public_key;
    } catch (e) {
      if (e instanceof ParleyError && e.status === 404) {
        return null;
      }
      throw e;
    }
  }
}
