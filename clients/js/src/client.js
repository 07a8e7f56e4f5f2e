import { Backoff } from './backoff.js';
import { Emitter } from './emitter.js';
import { ParleyError } from './errors.js';
import { ParleyApi, httpBase, request } from './rest.js';
import { MemoryStore } from './stores.js';
import { uuidv7 } from './uuid.js';

/** Send errors a client retries with the same msg_id (docs/protocol.md); any other rejects the send. */
export const RETRYABLE = Object.freeze(['rate_limited', 'unavailable']);

const DEVICE = /^[A-Za-z0-9_-]{1,64}$/;
const ZERO = '0';

const big = (id) => BigInt(id);
const maxId = (a, b) => (big(a) >= big(b) ? a : b);

/** The `sub` of a JWT, unverified (only used to recognise this user's own messages); null if not a JWT. */
function subOf(token) {
  try {
    const part = String(token).split('.')[1];
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    const sub = JSON.parse(json).sub;
    return typeof sub === 'string' ? sub : null;
  } catch {
    return null;
  }
}

let wsModule;
/** The global WebSocket (browsers, Node >= 22), else the `ws` package (Node 20). */
async function defaultWebSocket() {
  if (typeof globalThis.WebSocket === 'function') {
    return globalThis.WebSocket;
  }
  if (!wsModule) {
    const name = 'ws'; // not a literal: bundlers for the browser must not pull it in
    wsModule = import(name).then((m) => m.WebSocket ?? m.default);
  }
  return wsModule;
}

const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
  random: () => Math.random(),
};

/**
 * A correct Parley client over one WebSocket (docs/protocol.md): reconnects with backoff, keeps an
 * outbox of unacked sends resent with the same msg_id, syncs every tracked conversation after each
 * (re)connect and pages REST history while `synced` says `more`, and hands the app every message of
 * its tracked conversations once, in server_id order per conversation.
 *
 * Events (`client.on(type, fn)`): `message`, `ack`, `receipt`, `typing`, `presence`, `state`,
 * `untracked`, `error`. See README.md.
 */
export class ParleyClient extends Emitter {
  /** @type {import('./index.d.ts').ClientState} */
  #state = 'idle';
  #opts;
  #clock;
  #store;
  #api;
  #token = null;
  #user = null;
  /** conv → the newest server_id handed to the app (or the point it is tracked from). */
  #lastSeen = new Map();
  #storeLoaded = null;
  /** conv → server_ids of this client's own acked sends above lastSeen (not handed over as messages). */
  #ownAcked = new Map();
  /** msg_id → pending send, in send order. */
  #outbox = new Map();
  #presenceUsers = new Set();
  #pendingReads = new Map();
  #typingAt = new Map();
  #conn = null;
  #connNo = 0;
  #started = false;
  #reconnectTimer = null;
  #tickTimer = null;
  #backoff;
  /** Each send's own backoff after `rate_limited` / `unavailable`. */
  #sendBackoff;
  #startWaiters = [];
  #stats = { duplicatesDropped: 0, resends: 0, connects: 0, tokenFetches: 0, pagesFetched: 0 };

  /**
   * @param {import('./index.d.ts').ClientOptions} options
   */
  constructor(options) {
    super();
    if (!options || (typeof options.url !== 'string' && typeof options.url !== 'function')) {
      throw new TypeError('ParleyClient needs options.url (a string, or a function returning one)');
    }
    if (typeof options.token !== 'function') {
      throw new TypeError('ParleyClient needs options.token, a function returning a token (or a promise of one)');
    }
    const device = options.device ?? 'default';
    if (!DEVICE.test(device)) {
      throw new TypeError('device must match [A-Za-z0-9_-]{1,64}');
    }
    this.#opts = {
      url: options.url,
      token: options.token,
      device,
      discover: options.discover ?? 'unread',
      autoDelivered: options.autoDelivered ?? false,
      pingMs: options.pingMs ?? 30_000,
      deadMs: options.deadMs ?? 75_000,
      resendMs: options.resendMs ?? 3_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      syncBatch: options.syncBatch ?? 100,
      pageSize: options.pageSize ?? 200,
      frameMaxBytes: options.frameMaxBytes ?? 262_144,
      WebSocket: options.WebSocket,
      fetch: options.fetch ?? ((...a) => globalThis.fetch(...a)),
    };
    if (![false, 'unread', 'all', 'latest'].includes(this.#opts.discover)) {
      throw new TypeError("discover must be false, 'unread', 'all' or 'latest'");
    }
    this.#clock = { ...realClock, ...(options.clock ?? {}) };
    this.#store = options.store ?? new MemoryStore();
    const backoff = options.backoff ?? {};
    this.#backoff = new Backoff({ baseMs: backoff.baseMs ?? 500, maxMs: backoff.maxMs ?? 30_000, random: this.#clock.random });
    this.#sendBackoff = { baseMs: backoff.baseMs ?? 500, maxMs: backoff.maxMs ?? 30_000 };
    this.#api = new ParleyApi({
      baseUrl: () => this.#baseUrl(),
      token: () => (this.#token !== null ? Promise.resolve(this.#token) : this.#freshToken()),
      refreshToken: () => this.#freshToken(),
      fetch: this.#opts.fetch,
      device,
    });
  }

  /** REST helpers (conversations, members, history, devices and push), with this client's token. */
  get api() {
    return this.#api;
  }

  /** `idle`, `connecting`, `syncing`, `online`, `offline` (waiting to reconnect) or `closed`. */
  get state() {
    return this.#state;
  }

  /** The user id (the token's `sub`) once a token was fetched; null before. */
  get user() {
    return this.#user;
  }

  get device() {
    return this.#opts.device;
  }

  /** Counters for diagnostics and tests. */
  get stats() {
    return { ...this.#stats, outbox: this.#outbox.size };
  }

  /**
   * Starts connecting (and reconnecting until {@link stop}). Resolves once the client is first
   * `online` (connected, every tracked conversation synced); rejects if it gives up (a token the
   * server refuses: HTTP 401).
   */
  start() {
    const p = new Promise((resolve, reject) => {
      if (this.#state === 'online') {
        resolve();
      } else {
        this.#startWaiters.push({ resolve, reject });
      }
    });
    p.catch(() => {}); // an app that does not wait for start() gets the failure as a `state` event, not an unhandled rejection
    if (!this.#started) {
      this.#started = true;
      this.#backoff.reset();
      this.#tick();
      this.#connect();
    }
    return p;
  }

  /** Closes the connection and stops reconnecting; the outbox is kept for a later {@link start}. */
  stop() {
    this.#started = false;
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#clock.clearTimeout(this.#tickTimer);
    this.#reconnectTimer = this.#tickTimer = null;
    const conn = this.#conn;
    if (conn) {
      this.#dropConn(conn);
      try {
        conn.ws?.close(1000, 'client stopped');
      } catch {
        // already closing
      }
    }
    this.#setState('closed', { reason: 'stopped' });
    this.#failStart(new ParleyError('closed', 'client stopped'));
  }

  // --- tracked conversations -----------------------------------------------------------------

  /**
   * Tracks `conv`: it is synced after every (re)connect and its messages are handed over from
   * `since` on (exclusive; `'0'`: from its first message). A conversation tracked already keeps
   * its place. Messages of an untracked conversation that arrive live track it from `'0'`.
   */
  async track(conv, since = ZERO) {
    await this.#loadStore();
    if (this.#lastSeen.has(conv)) {
      return;
    }
    this.#lastSeen.set(conv, String(since));
    this.#store.save(conv, String(since));
    const conn = this.#conn;
    if (conn?.open) {
      this.#syncConvs(conn, [conv]);
    }
  }

  /** Stops tracking `conv` (and forgets its last seen id). */
  untrack(conv) {
    this.#lastSeen.delete(conv);
    this.#ownAcked.delete(conv);
    this.#store.remove?.(conv);
  }

  /** The tracked conversations and the last server_id handed over of each. */
  tracked() {
    return Object.fromEntries(this.#lastSeen);
  }

  // --- sending --------------------------------------------------------------------------------

  /**
   * Sends a message: it waits in the outbox (and is resent with the same msg_id after `resendMs`
   * and after every reconnect) until the server acks it. Resolves with the ack
   * (`{msg_id, conv, server_id, ts}`); `rate_limited` and `unavailable` are retried with backoff,
   * any other error rejects with a {@link ParleyError}.
   */
  send(conv, body, { media, msgId } = {}) {
    const id = msgId ?? uuidv7(this.#clock.now());
    if (typeof id !== 'string' || id.length < 1 || id.length > 64) {
      return Promise.reject(new ParleyError('bad_request', 'msg_id must be 1-64 characters', { conv: String(conv) }));
    }
    const frame = { op: 'send', msg_id: id, conv: String(conv), body: String(body) };
    if (media !== undefined) {
      frame.media = media;
    }
    // "first" (docs/protocol.md, "First attempts"): a msg_id this client made itself has never been
    // offered before, so its first copy says so and the server skips its dedupe look-up; every later
    // copy says "first": false. A msg_id the caller passed may have been sent before (by an earlier
    // run of the app): its copies carry no flag and count as possible retries.
    const own = msgId === undefined;
    const text = JSON.stringify(own ? { ...frame, first: false } : frame);
    const firstText = own ? JSON.stringify({ ...frame, first: true }) : text;
    if (new TextEncoder().encode(text).length > this.#opts.frameMaxBytes) {
      return Promise.reject(new ParleyError('too_large', `message frame over ${this.#opts.frameMaxBytes} bytes`,
        { conv: frame.conv, msgId: id }));
    }
    const existing = this.#outbox.get(id);
    if (existing) {
      return existing.promise;
    }
    let resolve, reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry = {
      msgId: id, conv: frame.conv, body: frame.body, media, text, firstText, resolve, reject, promise,
      attempts: 0, nextAt: 0, backoff: new Backoff({ ...this.#sendBackoff, random: this.#clock.random }),
    };
    this.#outbox.set(id, entry);
    const conn = this.#conn;
    if (conn?.open) {
      this.#write(conn, entry);
    }
    return promise;
  }

  /** Sends not acked yet, oldest first. */
  pending() {
    return [...this.#outbox.values()].map(({ msgId, conv, body, media, attempts }) => ({ msgId, conv, body, media, attempts }));
  }

  /** Takes a send out of the outbox (it may still have reached the server); its promise rejects with `cancelled`. */
  cancel(msgId) {
    const e = this.#outbox.get(msgId);
    if (!e) {
      return false;
    }
    this.#outbox.delete(msgId);
    e.reject(new ParleyError('cancelled', 'send cancelled', { conv: e.conv, msgId }));
    return true;
  }

  // --- signals ---------------------------------------------------------------------------------

  /** Tells the sender's devices that `serverId` reached this device (sent now if connected). */
  markDelivered(conv, serverId) {
    this.#frame({ op: 'delivered', conv: String(conv), server_id: String(serverId) });
  }

  /** Moves the user's read mark of `conv` up to `serverId`; kept and sent once connected. */
  markRead(conv, serverId) {
    conv = String(conv);
    const prev = this.#pendingReads.get(conv);
    const id = prev ? maxId(prev, String(serverId)) : String(serverId);
    this.#pendingReads.set(conv, id);
    this.#flushReads();
  }

  /** A typing signal for `conv`, at most one a second (the server forwards no more). */
  typing(conv) {
    conv = String(conv);
    const now = this.#clock.now();
    if (now - (this.#typingAt.get(conv) ?? -Infinity) < 1000) {
      return;
    }
    if (this.#frame({ op: 'typing', conv })) {
      this.#typingAt.set(conv, now);
    }
  }

  /** Subscribes to the presence of `users` (kept across reconnects). */
  subscribePresence(users) {
    const added = users.filter((u) => !this.#presenceUsers.has(u));
    added.forEach((u) => this.#presenceUsers.add(u));
    if (added.length) {
      this.#frame({ op: 'presence_sub', users: added });
    }
  }

  // --- connection ----------------------------------------------------------------------------

  async #baseUrl() {
    const u = this.#opts.url;
    return httpBase(typeof u === 'function' ? await u() : u);
  }

  async #freshToken() {
    this.#stats.tokenFetches++;
    const t = await this.#opts.token();
    if (typeof t !== 'string' || !t) {
      throw new ParleyError('unauthorized', 'the token supplier returned no token');
    }
    this.#token = t;
    this.#user = subOf(t) ?? this.#user;
    return t;
  }

  #loadStore() {
    if (!this.#storeLoaded) {
      this.#storeLoaded = Promise.resolve(this.#store.load()).then((saved) => {
        for (const [conv, id] of Object.entries(saved ?? {})) {
          if (/^\d+$/.test(conv) && /^\d+$/.test(String(id)) && !this.#lastSeen.has(conv)) {
            this.#lastSeen.set(conv, String(id));
          }
        }
      });
    }
    return this.#storeLoaded;
  }

  #setState(state, details = {}) {
    const previous = this.#state;
    this.#state = state;
    if (state === 'online') {
      this.#backoff.reset();
      const w = this.#startWaiters.splice(0);
      w.forEach((x) => x.resolve());
    }
    this.emit('state', { state, previous, ...details });
  }

  #failStart(err) {
    const w = this.#startWaiters.splice(0);
    w.forEach((x) => x.reject(err));
  }

  async #connect() {
    if (!this.#started || this.#conn) {
      return;
    }
    const no = ++this.#connNo;
    const conn = { no, ws: null, open: false, heard: false, lastFrameAt: this.#clock.now(), syncs: new Map(), discovering: false, timers: [],
      drainAt: null };
    this.#conn = conn;
    this.#setState('connecting', { attempt: this.#backoff.attempt });
    let url;
    let WS;
    try {
      await this.#loadStore();
      url = await this.#baseUrl();
      await this.#freshToken();
      WS = this.#opts.WebSocket ?? (await defaultWebSocket());
    } catch (e) {
      if (this.#conn === conn) {
        this.#conn = null;
        this.emit('error', e instanceof ParleyError ? e : new ParleyError('network', `connect: ${e?.message ?? e}`));
        this.#retryLater(conn, { reason: 'connect failed' });
      }
      return;
    }
    if (this.#conn !== conn) {
      return;
    }
    const wsUrl = url.replace(/^http/i, 'ws') + '/v1/ws?access_token=' + encodeURIComponent(this.#token)
      + '&device=' + encodeURIComponent(this.#opts.device);
    let ws;
    try {
      ws = new WS(wsUrl);
    } catch (e) {
      this.#conn = null;
      this.emit('error', new ParleyError('network', `connect: ${e?.message ?? e}`));
      this.#retryLater(conn, { reason: 'connect failed' });
      return;
    }
    conn.ws = ws;
    this.#stats.connects++;
    const guard = this.#clock.setTimeout(() => {
      if (!conn.open && this.#conn === conn) {
        this.#lost(conn, 4000, 'connect timeout');
      }
    }, this.#opts.connectTimeoutMs);
    conn.timers.push(guard);
    ws.onopen = () => this.#onOpen(conn);
    ws.onmessage = (ev) => this.#onText(conn, typeof ev.data === 'string' ? ev.data : new TextDecoder().decode(ev.data));
    ws.onerror = () => {}; // a close event follows
    ws.onclose = (ev) => this.#lost(conn, ev.code, ev.reason);
  }

  #onOpen(conn) {
    if (this.#conn !== conn) {
      return;
    }
    conn.open = true;
    conn.lastFrameAt = this.#clock.now();
    this.#setState('syncing');
    // the server reads a connection's frames once its registry knows it: the pong says so
    this.#send(conn, { op: 'ping' });
    if (this.#presenceUsers.size) {
      this.#send(conn, { op: 'presence_sub', users: [...this.#presenceUsers] });
    }
    this.#syncConvs(conn, [...this.#lastSeen.keys()]);
    for (const e of this.#outbox.values()) {
      this.#write(conn, e);
    }
    this.#flushReads();
    if (this.#opts.discover) {
      conn.discovering = true;
      this.#discover(conn).finally(() => {
        conn.discovering = false;
        this.#maybeOnline(conn);
      });
    }
    this.#maybeOnline(conn);
  }

  /** Lists the user's conversations and tracks those not tracked yet (option `discover`). */
  async #discover(conn) {
    const backoff = new Backoff({ baseMs: 500, maxMs: 10_000, random: this.#clock.random });
    while (this.#conn === conn) {
      try {
        const fresh = [];
        for await (const c of this.#api.conversations()) {
          if (this.#conn !== conn) {
            return;
          }
          if (!this.#lastSeen.has(c.id)) {
            const mode = this.#opts.discover;
            const since = mode === 'all' ? ZERO : mode === 'latest' ? (c.last_message_id ?? ZERO) : (c.last_read_id ?? ZERO);
            this.#lastSeen.set(c.id, since);
            this.#store.save(c.id, since);
            fresh.push(c.id);
          }
        }
        if (fresh.length) {
          this.#syncConvs(conn, fresh);
        }
        return;
      } catch (e) {
        this.emit('error', e);
        if (e instanceof ParleyError && e.status === 401) {
          return; // the connection's own handshake decides about the token
        }
        await this.#sleep(Math.max(backoff.next(), e.retryAfterMs ?? 0));
      }
    }
  }

  #sleep(ms) {
    return new Promise((r) => this.#clock.setTimeout(r, ms));
  }

  #maybeOnline(conn) {
    if (this.#conn === conn && conn.open && conn.heard && !conn.discovering && conn.syncs.size === 0
        && this.#state === 'syncing') {
      this.#setState('online');
    }
  }

  /** Forgets a connection (its timers and sync state); its socket's late events are ignored. */
  #dropConn(conn) {
    conn.timers.forEach((t) => this.#clock.clearTimeout(t));
    conn.syncs.clear();
    conn.open = false;
    if (conn.ws) {
      conn.ws.onopen = conn.ws.onmessage = conn.ws.onclose = null;
      conn.ws.onerror = () => {};
    }
    if (this.#conn === conn) {
      this.#conn = null;
    }
  }

  /** The connection closed or was found dead: reconnect (or give up on a refused token). */
  async #lost(conn, code, reason) {
    if (this.#conn !== conn) {
      return;
    }
    const wasOpen = conn.open;
    this.#dropConn(conn);
    try {
      conn.ws?.close(1000);
    } catch {
      // closed already
    }
    if (!this.#started) {
      return;
    }
    if (!wasOpen) {
      // A browser does not show a refused handshake's HTTP status: ask REST whether it is the token.
      let probe = null;
      try {
        await request(this.#opts.fetch, await this.#baseUrl(), 'GET', '/v1/conversations?limit=1', this.#token);
      } catch (e) {
        probe = e;
      }
      if (!this.#started || this.#conn) {
        return;
      }
      if (probe?.status === 401) {
        this.#started = false;
        this.#clock.clearTimeout(this.#tickTimer);
        const err = new ParleyError('unauthorized', 'the server refused the token (HTTP 401)', { status: 401 });
        this.#setState('closed', { code, reason: 'unauthorized' });
        this.emit('error', err);
        this.#failStart(err);
        return;
      }
      this.#retryLater(conn, { code, reason: reason || 'connect failed', minDelayMs: probe?.retryAfterMs ?? 0 });
      return;
    }
    if (conn.drainAt != null) {
      // the server asked for a reconnect at a moment of our choosing (#onReconnectFrame)
      this.#retryLater(conn, { code, reason: reason || 'restart', delayMs: Math.max(0, conn.drainAt - this.#clock.now()) });
      return;
    }
    if (code === 1008) {
      // the token expired (the server's only 1008): reconnect at once with a fresh one
      this.#backoff.reset();
      this.#retryLater(conn, { code, reason, delayMs: Math.round(this.#clock.random() * 1000) });
      return;
    }
    this.#retryLater(conn, { code, reason });
  }

  #retryLater(conn, { code, reason, delayMs, minDelayMs = 0 }) {
    if (!this.#started) {
      return;
    }
    const attempt = this.#backoff.attempt;
    const delay = Math.max(delayMs ?? this.#backoff.next(), minDelayMs);
    this.#setState('offline', { code, reason, delayMs: delay, attempt });
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connect();
    }, delay);
  }

  /** Once a second: resends what is due, pings every `pingMs`, and drops a connection silent for `deadMs`. */
  #tick() {
    if (!this.#started) {
      return;
    }
    this.#tickTimer = this.#clock.setTimeout(() => this.#tick(), 1000);
    const conn = this.#conn;
    if (!conn?.open) {
      return;
    }
    const now = this.#clock.now();
    if (now - conn.lastFrameAt > this.#opts.deadMs) {
      this.#lost(conn, 4001, 'no frame for ' + this.#opts.deadMs + ' ms');
      return;
    }
    if (now - (conn.pingAt ?? conn.lastFrameAt) >= this.#opts.pingMs) {
      conn.pingAt = now;
      this.#send(conn, { op: 'ping' });
    }
    for (const e of this.#outbox.values()) {
      if (now >= e.nextAt) {
        this.#write(conn, e);
      }
    }
  }

  #send(conn, frame) {
    try {
      conn.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Sends a frame on the open connection, if there is one. */
  #frame(frame) {
    const conn = this.#conn;
    return conn?.open ? this.#send(conn, frame) : false;
  }

  #write(conn, e) {
    if (this.#send(conn, e.attempts === 0 ? e.firstText : e.text)) {
      if (e.attempts > 0) {
        this.#stats.resends++;
      }
      e.attempts++;
      e.nextAt = this.#clock.now() + this.#opts.resendMs;
    }
  }

  #flushReads() {
    const conn = this.#conn;
    if (!conn?.open) {
      return;
    }
    for (const [conv, id] of this.#pendingReads) {
      if (this.#send(conn, { op: 'read', conv, server_id: id })) {
        this.#pendingReads.delete(conv);
      }
    }
  }

  // --- sync -----------------------------------------------------------------------------------

  /** Asks for the missed messages of `convs` (in frames of `syncBatch`); their messages wait in a buffer until synced. */
  #syncConvs(conn, convs) {
    const todo = convs.filter((c) => this.#lastSeen.has(c) && !conn.syncs.has(c));
    for (let i = 0; i < todo.length; i += this.#opts.syncBatch) {
      const frame = {};
      for (const conv of todo.slice(i, i + this.#opts.syncBatch)) {
        const from = this.#lastSeen.get(conv);
        frame[conv] = from;
        conn.syncs.set(conv, { from, buffer: new Map(), paging: false });
      }
      this.#send(conn, { op: 'sync', convs: frame });
    }
  }

  #onText(conn, text) {
    if (this.#conn !== conn) {
      return;
    }
    conn.lastFrameAt = this.#clock.now();
    const first = !conn.heard;
    conn.heard = true;
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      this.emit('error', new ParleyError('bad_frame', 'a frame that is not JSON: ' + text.slice(0, 200)));
      return;
    }
    switch (f.op) {
      case 'msg':
        this.#onMsg(conn, f);
        break;
      case 'synced':
        this.#onSynced(conn, f);
        break;
      case 'ack':
        this.#onAck(f);
        break;
      case 'error':
        this.#onError(conn, f);
        break;
      case 'receipt':
      case 'typing':
      case 'presence':
        this.emit(f.op, f);
        break;
      case 'reconnect':
        this.#onReconnectFrame(conn, f);
        break;
      default:
        break; // pong, and ops of later protocol versions
    }
    if (first) {
      this.#maybeOnline(conn);
    }
  }

  /**
   * `{"op":"reconnect","reason":"restart","within_ms":N}`: the node is draining. Every client
   * leaving at the same instant would hit the other nodes as one wave, so this one picks a moment
   * at random within N ms, then closes and connects again (and syncs, as after any reconnect). The
   * server closes with 1012 within N ms anyway; if it does so first, the new attempt still waits
   * for the moment picked.
   */
  #onReconnectFrame(conn, f) {
    if (conn.drainAt != null) {
      return;
    }
    const within = Number.isFinite(f.within_ms) && f.within_ms > 0 ? Math.min(f.within_ms, 10 * 60_000) : 0;
    const delay = Math.floor(this.#clock.random() * within);
    conn.drainAt = this.#clock.now() + delay;
    conn.timers.push(this.#clock.setTimeout(() => {
      if (this.#conn === conn) {
        this.#lost(conn, 1012, f.reason ?? 'restart');
      }
    }, delay));
  }

  /** This client's own send (its msg_id is in the outbox): it counts as acked. */
  #ownSend(m) {
    const e = this.#outbox.get(m.msg_id);
    return e && e.conv === m.conv && (this.#user === null || m.from === this.#user) ? e : null;
  }

  #onAck(f) {
    const e = this.#outbox.get(f.msg_id);
    if (!e) {
      return; // an ack of a resend whose first ack came already
    }
    this.#outbox.delete(f.msg_id);
    const last = this.#lastSeen.get(f.conv);
    // (also for a conversation not tracked yet: once it is, its sync must not show this send as a message)
    if (last === undefined || big(f.server_id) > big(last)) {
      let set = this.#ownAcked.get(f.conv);
      if (!set) {
        set = new Set();
        this.#ownAcked.set(f.conv, set);
      }
      set.add(f.server_id);
    }
    const ack = { msg_id: f.msg_id, conv: f.conv, server_id: f.server_id, ts: f.ts };
    e.resolve(ack);
    this.emit('ack', { ...ack, body: e.body, media: e.media });
  }

  #onError(conn, f) {
    const err = new ParleyError(f.code, f.message, { conv: f.conv, msgId: f.msg_id });
    if (f.msg_id != null) {
      const e = this.#outbox.get(f.msg_id);
      if (!e) {
        return;
      }
      if (RETRYABLE.includes(f.code)) {
        e.nextAt = this.#clock.now() + e.backoff.next();
        return;
      }
      this.#outbox.delete(f.msg_id);
      e.reject(err);
      return;
    }
    const s = f.conv != null ? conn.syncs.get(f.conv) : undefined;
    if (s && !s.paging) {
      // the sync of this conversation failed: what it brought is dropped, and it is synced again
      conn.syncs.delete(f.conv);
      if (f.code === 'not_member' || f.code === 'not_found') {
        this.untrack(f.conv);
        this.emit('untracked', { conv: f.conv, code: f.code });
        this.#maybeOnline(conn);
        return;
      }
      this.emit('error', err);
      const t = this.#clock.setTimeout(() => {
        if (this.#conn === conn && conn.open) {
          this.#syncConvs(conn, [f.conv]);
        }
      }, this.#backoff.baseMs + this.#clock.random() * 2000);
      conn.timers.push(t);
      return;
    }
    this.emit('error', err);
  }

  #onMsg(conn, m) {
    const conv = m.conv;
    const s = conn.syncs.get(conv);
    if (s) {
      if (s.buffer.has(m.server_id)) {
        this.#stats.duplicatesDropped++;
      }
      s.buffer.set(m.server_id, m);
      return;
    }
    if (!this.#lastSeen.has(conv)) {
      // a conversation this client did not know (new, or discovery has not listed it yet): all of it is new
      this.#lastSeen.set(conv, ZERO);
      this.#store.save(conv, ZERO);
      this.#syncConvs(conn, [conv]);
      conn.syncs.get(conv)?.buffer.set(m.server_id, m);
      return;
    }
    this.#handOver(conv, [m]);
  }

  #onSynced(conn, f) {
    const s = conn.syncs.get(f.conv);
    if (!s || s.paging) {
      return;
    }
    if (f.more) {
      s.paging = true;
      this.#page(conn, f.conv, s);
      return;
    }
    this.#finishSync(conn, f.conv, s);
  }

  /** REST history from below the oldest synced message back to the sync's `from`, into the buffer. */
  async #page(conn, conv, s) {
    let before = null;
    for (const id of s.buffer.keys()) {
      if (before === null || big(id) < big(before)) {
        before = id;
      }
    }
    const from = big(s.from);
    const backoff = new Backoff({ baseMs: 500, maxMs: 10_000, random: this.#clock.random });
    while (this.#conn === conn && conn.syncs.get(conv) === s) {
      let page;
      try {
        page = await this.#api.historyPage(conv, { before: before ?? undefined, limit: this.#opts.pageSize });
        this.#stats.pagesFetched++;
      } catch (e) {
        this.emit('error', e);
        if (e instanceof ParleyError && (e.code === 'not_member' || e.code === 'not_found')) {
          if (this.#conn === conn && conn.syncs.get(conv) === s) {
            conn.syncs.delete(conv);
            this.untrack(conv);
            this.emit('untracked', { conv, code: e.code });
            this.#maybeOnline(conn);
          }
          return;
        }
        await this.#sleep(Math.max(backoff.next(), e.retryAfterMs ?? 0));
        continue;
      }
      if (this.#conn !== conn || conn.syncs.get(conv) !== s) {
        return; // the connection dropped: the next one syncs again from the same last seen id
      }
      let reachedEnd = false;
      for (const m of page.messages ?? []) {
        if (big(m.server_id) <= from) {
          reachedEnd = true;
        } else {
          s.buffer.set(m.server_id, m);
        }
      }
      if (reachedEnd || !page.next_cursor) {
        this.#finishSync(conn, conv, s);
        return;
      }
      before = page.next_cursor;
    }
  }

  #finishSync(conn, conv, s) {
    conn.syncs.delete(conv);
    const msgs = [...s.buffer.values()].sort((a, b) => (big(a.server_id) < big(b.server_id) ? -1 : 1));
    this.#handOver(conv, msgs);
    this.#maybeOnline(conn);
  }

  /**
   * Hands messages of `conv` (in server_id order) to the app: each once (a server_id not above the
   * last one handed over is a repeat), this client's own sends as acks rather than messages.
   */
  #handOver(conv, msgs) {
    if (!this.#lastSeen.has(conv)) {
      return; // untracked meanwhile
    }
    let last = this.#lastSeen.get(conv);
    const own = this.#ownAcked.get(conv);
    let newest = null;
    for (const m of msgs) {
      if (big(m.server_id) <= big(last)) {
        this.#stats.duplicatesDropped++;
        continue;
      }
      last = m.server_id;
      const mine = this.#ownSend(m);
      if (mine) {
        this.#onAck({ msg_id: m.msg_id, conv, server_id: m.server_id, ts: m.ts });
        own?.delete(m.server_id);
        continue;
      }
      if (own?.delete(m.server_id)) {
        continue; // this client's own send, acked already
      }
      this.emit('message', m);
      newest = m;
    }
    if (last !== this.#lastSeen.get(conv)) {
      this.#lastSeen.set(conv, last);
      this.#store.save(conv, last);
      if (own) {
        for (const id of own) {
          if (big(id) <= big(last)) {
            own.delete(id);
          }
        }
      }
    }
    if (newest && this.#opts.autoDelivered) {
      this.markDelivered(conv, newest.server_id);
    }
  }
}
