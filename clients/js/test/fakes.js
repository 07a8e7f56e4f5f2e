// Test support: a clock whose time moves only when the test says, and WebSockets the test plays
// the server for.

/** Lets pending promise callbacks run (the client awaits between steps). */
export const settle = () => new Promise((r) => setImmediate(r));

export class FakeClock {
  constructor(random = () => 0.5) {
    this.t = 1_000_000;
    this.timers = new Map();
    this.seq = 0;
    this.random = random;
    /** Every delay passed to setTimeout, in order. */
    this.delays = [];
  }

  now = () => this.t;

  setTimeout = (fn, ms) => {
    const id = ++this.seq;
    this.delays.push(ms);
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (id) => {
    this.timers.delete(id);
  };

  /** Moves time forward by `ms`, running each timer that falls due (in time order) and settling after each. */
  async advance(ms) {
    const end = this.t + ms;
    for (;;) {
      let next = null;
      for (const [id, tm] of this.timers) {
        if (tm.at <= end && (next === null || tm.at < next[1].at)) {
          next = [id, tm];
        }
      }
      if (!next) {
        break;
      }
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

/** A WebSocket class whose instances the test drives: `FakeSocket.last.open()`, `.serverSends(frame)`, `.serverCloses(code)`. */
export function fakeSockets() {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = false;
      this.onopen = this.onmessage = this.onclose = this.onerror = null;
      sockets.push(this);
    }

    send(text) {
      if (this.closed) {
        throw new Error('closed');
      }
      this.sent.push(JSON.parse(text));
    }

    close() {
      this.closed = true;
    }

    /** The frames the client sent with this op. */
    frames(op) {
      return this.sent.filter((f) => f.op === op);
    }

    open() {
      this.onopen?.({});
    }

    serverSends(frame) {
      this.onmessage?.({ data: JSON.stringify(frame) });
    }

    serverCloses(code, reason = '') {
      this.closed = true;
      this.onclose?.({ code, reason });
    }
  }
  return { FakeSocket, sockets };
}

/** A fetch that answers from `routes(method, path)` → {status, body, headers}; records calls. */
export function fakeFetch(routes) {
  const calls = [];
  const fn = async (url, init) => {
    const u = new URL(url);
    const path = u.pathname + u.search;
    calls.push({ method: init.method, path, auth: init.headers.Authorization });
    const r = (await routes(init.method, path, init)) ?? { status: 404, body: { error: { code: 'not_found', message: 'no' } } };
    const headers = new Map(Object.entries(r.headers ?? {}));
    return {
      ok: r.status >= 200 && r.status < 300,
      status: r.status,
      statusText: String(r.status),
      headers: { get: (n) => headers.get(n) ?? null },
      text: async () => (r.body === undefined ? '' : JSON.stringify(r.body)),
    };
  };
  fn.calls = calls;
  return fn;
}
