// The client's rules without a server: a fake clock, fake sockets and a fake fetch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, LocalStorageStore, MemoryStore, ParleyClient, ParleyError, uuidv7 } from '../src/index.js';
import { FakeClock, fakeFetch, fakeSockets, settle } from './fakes.js';

const CONV = '1000';

function client({ routes = () => ({ status: 200, body: { conversations: [], next_cursor: null } }), ...more } = {}) {
  const clock = new FakeClock();
  const { FakeSocket, sockets } = fakeSockets();
  const fetch = fakeFetch(routes);
  let tokens = 0;
  const c = new ParleyClient({
    url: 'http://parley.test',
    token: () => `tok${++tokens}`,
    device: 'd1',
    WebSocket: FakeSocket,
    fetch,
    clock,
    discover: false,
    ...more,
  });
  const states = [];
  c.on('state', (s) => states.push(s));
  const messages = [];
  c.on('message', (m) => messages.push(m));
  return { c, clock, sockets, fetch, states, messages, tokenCalls: () => tokens };
}

const msg = (id, body = 'm' + id, from = 'bob') => ({ op: 'msg', conv: CONV, server_id: String(id), from, msg_id: 'x' + id, body, ts: 1 });

test('uuidv7: version 7, variant 10, time-ordered, unique', () => {
  const a = uuidv7(1_700_000_000_000);
  const b = uuidv7(1_700_000_000_001);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(a.slice(0, 13).replace('-', ''), (1_700_000_000_000).toString(16).padStart(12, '0'));
  assert.ok(a < b);
  const many = new Set(Array.from({ length: 1000 }, () => uuidv7(5)));
  assert.equal(many.size, 1000);
});

test('backoff: each delay within [step/2, step], steps double up to the cap and stay there; reset starts over', () => {
  for (const r of [0, 0.5, 0.999999]) {
    const b = new Backoff({ baseMs: 500, maxMs: 30_000, random: () => r });
    for (let i = 0; i < 40; i++) {
      const step = Math.min(30_000, 500 * 2 ** i);
      const d = b.next();
      assert.ok(d >= step / 2 && d <= step, `attempt ${i}: ${d} not in [${step / 2}, ${step}]`);
    }
    b.reset();
    assert.ok(b.next() <= 500);
  }
});

test('reconnect delays are bounded by the cap, grow with failures, and start over once online', async () => {
  const { c, clock, sockets, states } = client({ backoff: { baseMs: 100, maxMs: 2000 } });
  c.start().catch(() => {});
  await settle();
  for (let i = 0; i < 12; i++) {
    const s = sockets.at(-1);
    s.open();
    s.serverCloses(1013, 'try again later');
    await settle();
    const off = states.at(-1);
    assert.equal(off.state, 'offline');
    assert.equal(off.code, 1013);
    assert.ok(off.delayMs >= Math.min(2000, 100 * 2 ** i) / 2 && off.delayMs <= 2000, `delay ${off.delayMs} at ${i}`);
    await clock.advance(off.delayMs);
  }
  assert.equal(sockets.length, 13, 'one new socket per attempt');
  assert.ok(states.filter((s) => s.state === 'offline').slice(-3).every((s) => s.delayMs >= 1000), 'at the cap');
  sockets.at(-1).open();
  sockets.at(-1).serverSends({ op: 'pong' });
  await settle();
  assert.equal(c.state, 'online');
  sockets.at(-1).serverCloses(1012, 'service restart');
  await settle();
  assert.ok(states.at(-1).delayMs <= 100, 'after being online the backoff starts over');
  c.stop();
});

test('1001, 1012, 1013 and a dead network all reconnect; every connect asks the token supplier again', async () => {
  const { c, clock, sockets, tokenCalls, states } = client({ pingMs: 30_000, deadMs: 75_000 });
  c.start();
  await settle();
  for (const code of [1001, 1012, 1013, 1006]) {
    sockets.at(-1).open();
    sockets.at(-1).serverCloses(code);
    await settle();
    assert.equal(states.at(-1).state, 'offline');
    await clock.advance(states.at(-1).delayMs);
  }
  assert.equal(sockets.length, 5);
  assert.equal(tokenCalls(), 5, 'a fresh token for each connect');
  assert.match(sockets.at(-1).url, /^ws:\/\/parley\.test\/v1\/ws\?access_token=tok5&device=d1$/);
  // a silent connection: pings every 30 s, and is dropped after 75 s without any frame
  sockets.at(-1).open();
  await clock.advance(31_000);
  assert.equal(sockets.at(-1).frames('ping').length, 2, 'one at the open, one 30 s later');
  await clock.advance(45_000);
  assert.equal(sockets.at(-1).closed, true, 'dead connection closed');
  assert.equal(states.at(-1).state, 'offline');
  await clock.advance(states.at(-1).delayMs);
  assert.equal(sockets.length, 6, 'and replaced');
  c.stop();
});

test('reconnect frame (a draining node): leaves at a random moment within within_ms, then reconnects at once and syncs', async () => {
  const { c, clock, sockets, states } = client({ store: new MemoryStore({ [CONV]: '7' }) });
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  s.serverSends({ op: 'pong' });
  s.serverSends({ op: 'synced', conv: CONV, more: false });
  await settle();
  assert.equal(c.state, 'online');
  const pending = c.send(CONV, 'in flight', { msgId: 'd1' });
  s.serverSends({ op: 'reconnect', reason: 'restart', within_ms: 4000 });
  await clock.advance(1999); // the fake clock's random is 0.5: the moment is 2,000 ms on
  assert.equal(s.closed, false, 'still on the old connection before its moment');
  assert.equal(sockets.length, 1);
  await clock.advance(1);
  assert.equal(s.closed, true, 'left at its moment');
  const off = states.filter((x) => x.state === 'offline');
  assert.equal(off.length, 1);
  assert.equal(off[0].delayMs, 0, 'and connects again without a backoff');
  assert.equal(sockets.length, 2);
  sockets[1].open();
  assert.deepEqual(sockets[1].frames('sync').map((f) => f.convs), [{ [CONV]: '7' }], 'synced as after any reconnect');
  assert.deepEqual(sockets[1].frames('send').map((f) => f.msg_id), ['d1'], 'the send in flight again, same msg_id');
  sockets[1].serverSends({ op: 'ack', msg_id: 'd1', conv: CONV, server_id: '8', ts: 1 });
  assert.equal((await pending).server_id, '8');
  c.stop();
});

test('reconnect frame: a 1012 before the moment picked still waits for it; a frame without within_ms leaves at once', async () => {
  const { c, clock, sockets, states } = client();
  c.start();
  await settle();
  sockets[0].open();
  sockets[0].serverSends({ op: 'reconnect', reason: 'restart', within_ms: 10_000 });
  await clock.advance(1000);
  sockets[0].serverCloses(1012, 'server restart');
  await settle();
  assert.equal(states.at(-1).state, 'offline');
  assert.equal(states.at(-1).delayMs, 4000, 'the rest of the way to 5,000 ms, not the backoff');
  await clock.advance(3999);
  assert.equal(sockets.length, 1);
  await clock.advance(1);
  assert.equal(sockets.length, 2);
  sockets[1].open();
  sockets[1].serverSends({ op: 'reconnect', reason: 'restart' });
  await clock.advance(0);
  assert.equal(sockets[1].closed, true);
  assert.equal(sockets.length, 3);
  c.stop();
});

test('1008 (token expired): reconnects within a second with a fresh token', async () => {
  const { c, clock, sockets, tokenCalls, states } = client();
  c.start();
  await settle();
  sockets[0].open();
  sockets[0].serverCloses(1008, 'token expired');
  await settle();
  assert.ok(states.at(-1).delayMs <= 1000);
  await clock.advance(1000);
  assert.equal(sockets.length, 2);
  assert.equal(tokenCalls(), 2);
  assert.match(sockets[1].url, /access_token=tok2/);
  c.stop();
});

test('a handshake refused with 401 gives up: state closed, start() rejects, no further attempt', async () => {
  const { c, clock, sockets, states } = client({
    routes: (m, p) => (p.startsWith('/v1/conversations') ? { status: 401, body: { error: { code: 'unauthorized', message: 'invalid or expired token' } } } : null),
  });
  const started = c.start();
  await settle();
  sockets[0].serverCloses(1006); // a browser sees no HTTP status
  await assert.rejects(started, (e) => e instanceof ParleyError && e.code === 'unauthorized');
  assert.equal(c.state, 'closed');
  assert.equal(states.at(-1).reason, 'unauthorized');
  await clock.advance(120_000);
  assert.equal(sockets.length, 1);
});

test('a handshake refused for another reason (429, server down) is retried, waiting at least Retry-After', async () => {
  const { c, clock, sockets, states } = client({
    routes: () => ({ status: 429, headers: { 'Retry-After': '7' }, body: { error: { code: 'rate_limited', message: 'slow down' } } }),
  });
  c.start();
  await settle();
  sockets[0].serverCloses(1006);
  await settle();
  await settle();
  assert.equal(states.at(-1).state, 'offline');
  assert.ok(states.at(-1).delayMs >= 7000);
  await clock.advance(7000);
  assert.equal(sockets.length, 2);
  c.stop();
});

test('sends: resent with the same msg_id after 3 s and after a reconnect; rate_limited and unavailable retried, other errors reject', async () => {
  const { c, clock, sockets } = client();
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  const acked = c.send(CONV, 'hello', { msgId: 'm1' });
  const refused = c.send(CONV, 'x', { msgId: 'm2' });
  const shed = c.send(CONV, 'y', { msgId: 'm3' });
  assert.deepEqual(s.frames('send').map((f) => f.msg_id), ['m1', 'm2', 'm3']);
  s.serverSends({ op: 'error', msg_id: 'm2', conv: CONV, code: 'not_member', message: 'no' });
  s.serverSends({ op: 'error', msg_id: 'm3', conv: CONV, code: 'unavailable', message: 'shed' });
  await assert.rejects(refused, (e) => e.code === 'not_member' && e.msgId === 'm2');
  await clock.advance(3000);
  assert.deepEqual(s.frames('send').map((f) => f.msg_id), ['m1', 'm2', 'm3', 'm3', 'm1'], 'm3 after its backoff, m1 after 3 s');
  s.serverCloses(1012);
  await settle();
  await clock.advance(1000);
  sockets[1].open();
  assert.deepEqual(sockets[1].frames('send').map((f) => [f.msg_id, f.body]), [['m1', 'hello'], ['m3', 'y']]);
  sockets[1].serverSends({ op: 'ack', msg_id: 'm1', conv: CONV, server_id: '5', ts: 9 });
  sockets[1].serverSends({ op: 'ack', msg_id: 'm1', conv: CONV, server_id: '5', ts: 9 });
  assert.deepEqual(await acked, { msg_id: 'm1', conv: CONV, server_id: '5', ts: 9 });
  assert.deepEqual(c.pending().map((p) => p.msgId), ['m3']);
  const tooBig = c.send(CONV, 'z'.repeat(300_000));
  await assert.rejects(tooBig, (e) => e.code === 'too_large');
  await assert.rejects(c.send(CONV, 'x', { msgId: 'i'.repeat(65) }), (e) => e.code === 'bad_request');
  assert.equal(sockets[1].frames('send').length, 2, 'neither was sent');
  c.stop();
});

test('first: a msg_id the client made goes out once with first true, then only with first false; a given msg_id carries no flag', async () => {
  const { c, clock, sockets } = client();
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  c.send(CONV, 'mine');
  c.send(CONV, 'given', { msgId: 'g1' });
  await clock.advance(3000);
  s.serverCloses(1012);
  await settle();
  await clock.advance(1000);
  sockets[1].open();
  const all = [...s.frames('send'), ...sockets[1].frames('send')];
  const mine = all.filter((f) => f.body === 'mine');
  assert.ok(mine.length >= 3, 'sent, resent after 3 s and after the reconnect');
  assert.deepEqual(mine.map((f) => f.first), [true, ...mine.slice(1).map(() => false)]);
  assert.ok(mine.every((f) => f.msg_id === mine[0].msg_id), 'one msg_id');
  const given = all.filter((f) => f.msg_id === 'g1');
  assert.ok(given.length >= 3);
  assert.ok(given.every((f) => !('first' in f)), 'no flag on a msg_id the caller chose');
  c.stop();
});

test('sync: messages are held until synced, a message of the sync again live just after synced is dropped, live ones follow in order', async () => {
  const { c, sockets, messages, states } = client({ store: new MemoryStore({ [CONV]: '10' }) });
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  assert.deepEqual(s.frames('sync'), [{ op: 'sync', convs: { [CONV]: '10' } }]);
  assert.equal(c.state, 'syncing');
  s.serverSends(msg(12)); // live, fanned out before the server read the sync
  s.serverSends(msg(11));
  s.serverSends(msg(12));
  assert.equal(messages.length, 0, 'held until synced');
  s.serverSends({ op: 'synced', conv: CONV, more: false });
  s.serverSends(msg(12)); // the same message once more live, just after synced
  s.serverSends(msg(11));
  s.serverSends(msg(13));
  assert.deepEqual(messages.map((m) => m.server_id), ['11', '12', '13']);
  assert.equal(c.stats.duplicatesDropped, 3);
  assert.equal(c.tracked()[CONV], '13');
  assert.ok(states.some((x) => x.state === 'online'));
  c.stop();
});

test('sync with more: pages REST history back to the last seen id and hands everything over oldest first', async () => {
  const stored = Array.from({ length: 30 }, (_, i) => msg(101 + i)); // 101..130
  const { c, sockets, messages, fetch } = client({
    store: new MemoryStore({ [CONV]: '103' }),
    pageSize: 5,
    routes: (m, p) => {
      const u = new URL('http://x' + p);
      if (u.pathname === `/v1/conversations/${CONV}/messages`) {
        const before = BigInt(u.searchParams.get('before'));
        const older = stored.filter((x) => BigInt(x.server_id) < before).reverse().slice(0, 5);
        return { status: 200, body: { messages: older, next_cursor: older.length === 5 ? older.at(-1).server_id : null } };
      }
      return null;
    },
  });
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  for (const m of stored.slice(20)) s.serverSends(m); // the sync's newest 10: 121..130
  s.serverSends({ op: 'synced', conv: CONV, more: true });
  s.serverSends(msg(131)); // live while paging
  await settle();
  for (let i = 0; i < 10; i++) await settle();
  assert.deepEqual(messages.map((m) => Number(m.server_id)), Array.from({ length: 28 }, (_, i) => 104 + i));
  assert.ok(fetch.calls.every((x) => x.auth === 'Bearer tok1'));
  assert.equal(c.state, 'online');
  c.stop();
});

test("a sync that fails is asked again; a conversation the user left (not_member) is untracked", async () => {
  const { c, clock, sockets, messages } = client({ store: new MemoryStore({ [CONV]: '0', 2000: '0' }) });
  const untracked = [];
  c.on('untracked', (e) => untracked.push(e));
  c.on('error', () => {});
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  s.serverSends(msg(1));
  s.serverSends({ op: 'error', conv: CONV, code: 'unavailable', message: 'history unavailable' });
  s.serverSends({ op: 'error', conv: '2000', code: 'not_member', message: 'no' });
  assert.deepEqual(untracked, [{ conv: '2000', code: 'not_member' }]);
  assert.equal(messages.length, 0, 'what the failed sync brought is dropped');
  await clock.advance(5000);
  assert.deepEqual(s.frames('sync').at(-1), { op: 'sync', convs: { [CONV]: '0' } });
  s.serverSends(msg(1));
  s.serverSends({ op: 'synced', conv: CONV, more: false });
  assert.deepEqual(messages.map((m) => m.server_id), ['1']);
  assert.deepEqual(Object.keys(c.tracked()), [CONV]);
  c.stop();
});

test("own sends: a sync that brings one still in the outbox acks it; an acked one is not handed over as a message", async () => {
  const { c, sockets, messages } = client({ store: new MemoryStore({ [CONV]: '0' }) });
  // (the fake supplier's tokens are not JWTs: the user stays unknown and the msg_ids decide)
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  const p1 = c.send(CONV, 'one', { msgId: 'own1' });
  const p2 = c.send(CONV, 'two', { msgId: 'own2' });
  s.serverSends({ op: 'ack', msg_id: 'own2', conv: CONV, server_id: '3', ts: 1 });
  s.serverSends({ ...msg(1), msg_id: 'own1', from: 'alice' });
  s.serverSends(msg(2));
  s.serverSends({ ...msg(3), msg_id: 'own2', from: 'alice' });
  s.serverSends(msg(4));
  s.serverSends({ op: 'synced', conv: CONV, more: false });
  assert.equal((await p1).server_id, '1');
  assert.equal((await p2).server_id, '3');
  assert.deepEqual(messages.map((m) => m.server_id), ['2', '4']);
  assert.equal(c.tracked()[CONV], '4');
  c.stop();
});

test('a send to a conversation not tracked yet is not shown as a message when the conversation gets tracked', async () => {
  const { c, sockets, messages } = client();
  c.start();
  await settle();
  const s = sockets[0];
  s.open();
  const p = c.send(CONV, 'first', { msgId: 'own1' });
  s.serverSends({ op: 'ack', msg_id: 'own1', conv: CONV, server_id: '1', ts: 1 });
  await p;
  s.serverSends(msg(2)); // bob answers: the conversation is new to the client, synced from its start
  assert.deepEqual(s.frames('sync').at(-1), { op: 'sync', convs: { [CONV]: '0' } });
  s.serverSends({ ...msg(1), msg_id: 'own1', from: 'alice' });
  s.serverSends(msg(2));
  s.serverSends({ op: 'synced', conv: CONV, more: false });
  assert.deepEqual(messages.map((m) => m.server_id), ['2']);
  c.stop();
});

test('discover: the user’s conversations are tracked from their read mark and synced', async () => {
  const { c, sockets } = client({
    discover: 'unread',
    routes: (m, p) => (p.startsWith('/v1/conversations?') ? {
      status: 200,
      body: { conversations: [{ id: '7', last_read_id: '70', last_message_id: '75' }, { id: '8', last_read_id: null, last_message_id: null }], next_cursor: null },
    } : null),
  });
  c.start();
  await settle();
  sockets[0].open();
  for (let i = 0; i < 5; i++) await settle();
  assert.deepEqual(sockets[0].frames('sync').at(-1), { op: 'sync', convs: { 7: '70', 8: '0' } });
  c.stop();
});

test('LocalStorageStore keeps one key per conversation under its prefix', () => {
  const map = new Map([['other', 'x']]);
  const storage = {
    get length() { return map.size; },
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => map.set(k, String(v)),
    removeItem: (k) => map.delete(k),
  };
  const s = new LocalStorageStore('parley:alice:laptop:', storage);
  s.save('12', '99');
  s.save('13', '5');
  s.remove('13');
  assert.deepEqual(s.load(), { 12: '99' });
  assert.equal(map.get('parley:alice:laptop:12'), '99');
  assert.throws(() => new LocalStorageStore('', storage));
});

test('VERSION is the package version', async () => {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  const { VERSION } = await import('../src/index.js');
  assert.equal(VERSION, pkg.version);
});
