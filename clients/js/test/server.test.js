// The SDK against the real server: target/parley.jar started by the test (embedded profile, a free
// port, a temporary data dir), killed with SIGKILL and restarted on the same data dir mid-stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, ParleyError } from '../src/index.js';
import { ParleyServer, waitFor } from './server.js';

const server = new ParleyServer();
const clients = [];

before(async () => {
  await server.start();
});

after(async () => {
  clients.forEach((c) => c.stop());
  await server.stop();
});

/** A client of `user` on `device` against the server, whatever port it has now; records what it hands over. */
function device(user, name, options = {}) {
  let tokens = 0;
  const c = new ParleyClient({
    url: () => server.url,
    token: options.token ?? (() => {
      tokens++;
      return server.token(user);
    }),
    device: name,
    backoff: { baseMs: 200, maxMs: 2000 },
    ...options,
  });
  c.label = `${user}/${name}`;
  c.messages = [];
  c.acks = [];
  c.states = [];
  c.errors = [];
  c.tokenCalls = () => tokens;
  c.on('message', (m) => c.messages.push(m));
  c.on('ack', (a) => c.acks.push(a));
  c.on('state', (s) => c.states.push(s.state));
  c.on('error', (e) => c.errors.push(e));
  clients.push(c);
  return c;
}

/** Every message of `conv` in storage, oldest first (REST history, all pages). */
async function stored(c, conv) {
  const all = [];
  for await (const page of c.api.history(conv, { limit: 200 })) {
    all.push(...page.messages);
  }
  return all.reverse();
}

/** What a device has of `conv`: handed-over messages and its own acked sends, by server_id. */
function seen(c, conv) {
  return [...c.messages.filter((m) => m.conv === conv).map((m) => m.server_id),
    ...c.acks.filter((a) => a.conv === conv).map((a) => a.server_id)];
}

/** The device's messages of `conv` in the order handed over: strictly increasing server_ids, none twice. */
function assertInOrderOnce(c, conv) {
  const ids = c.messages.filter((m) => m.conv === conv).map((m) => BigInt(m.server_id));
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] > ids[i - 1], `${c.label}: ${ids[i]} handed over after ${ids[i - 1]}`);
  }
}

async function assertComplete(devices, conv) {
  const all = await stored(devices[0], conv);
  const ids = all.map((m) => m.server_id);
  for (const d of devices) {
    await waitFor(`${d.label} to have all ${ids.length} messages`, () => new Set(seen(d, conv)).size >= ids.length, 60_000);
    const mine = seen(d, conv);
    assert.equal(mine.length, new Set(mine).size, `${d.label}: no message twice`);
    assert.deepEqual([...mine].sort(), [...ids].sort(), `${d.label}: exactly the stored messages`);
    assertInOrderOnce(d, conv);
  }
  return all;
}

test('two users on two devices each: every device gets every message once, in order', { timeout: 180_000 }, async () => {
  const a1 = device('alice', 'laptop');
  const a2 = device('alice', 'phone');
  const b1 = device('bob', 'laptop');
  const b2 = device('bob', 'phone');
  await Promise.all([a1, a2, b1, b2].map((c) => c.start()));
  const dm = await a1.api.createDm('bob');
  await Promise.all([a1, a2, b1, b2].map((c) => c.track(dm.id)));
  const sends = [];
  for (let i = 0; i < 20; i++) {
    sends.push(a1.send(dm.id, `a1 ${i}`), b2.send(dm.id, `b2 ${i}`), a2.send(dm.id, `a2 ${i}`));
  }
  const acks = await Promise.all(sends);
  assert.equal(new Set(acks.map((a) => a.server_id)).size, 60);
  const all = await assertComplete([a1, a2, b1, b2], dm.id);
  assert.equal(all.length, 60);
  // a device gets its user's other devices' messages, not its own sends, as messages
  assert.equal(a2.messages.filter((m) => m.body.startsWith('a1 ')).length, 20);
  assert.equal(a1.messages.filter((m) => m.body.startsWith('a1 ')).length, 0);
  // typing and receipts reach the other user
  const typing = new Promise((r) => b1.once('typing', r));
  a1.typing(dm.id);
  assert.deepEqual(await typing, { op: 'typing', conv: dm.id, user: 'alice' });
  const receipt = new Promise((r) => a1.once('receipt', r));
  b1.markRead(dm.id, all.at(-1).server_id);
  const rc = await receipt;
  assert.equal(rc.state, 'read');
  assert.equal(rc.user, 'bob');
  [a1, a2, b1, b2].forEach((c) => c.stop());
});

test('kill -9 and restart mid-stream with sends in flight: each send acked once, every device ends with the whole history in order, no repeats shown', { timeout: 300_000 }, async (t) => {
  const a1 = device('carol', 'laptop');
  const a2 = device('carol', 'phone');
  const b1 = device('dave', 'laptop');
  const b2 = device('dave', 'tablet');
  await Promise.all([a1, a2, b1, b2].map((c) => c.start()));
  const dm = await a1.api.createDm('dave');
  const group = await b1.api.createGroup({ name: 'g', members: ['carol'] });
  await Promise.all([a1, a2, b1, b2].map((c) => Promise.all([c.track(dm.id), c.track(group.id)])));
  // dave's tablet is away for the whole burst: its sync must page history back (more than 200 missed)
  b2.stop();

  const sends = [];
  const acksOf = new Map();
  const send = (c, conv, body) => {
    const p = c.send(conv, body);
    sends.push(p.then((ack) => {
      assert.ok(!acksOf.has(ack.msg_id), `one ack per send: ${ack.msg_id}`);
      acksOf.set(ack.msg_id, ack);
      return ack;
    }));
  };
  let killed = false;
  for (let i = 0; i < 150; i++) {
    send(a1, dm.id, `a1 dm ${i}`);
    send(b1, i % 2 ? group.id : dm.id, `b1 ${i}`);
    if (i % 3 === 0) send(a2, group.id, `a2 group ${i}`);
    if (i === 60) {
      await waitFor('some acks before the kill', () => acksOf.size > 20, 60_000);
      await server.kill9();
      killed = true;
    }
    if (i === 90) {
      await server.start(); // same data dir, a new port: the clients' url function follows it
    }
    await new Promise((r) => setTimeout(r, killed && i < 90 ? 1 : 5));
  }
  await Promise.all(sends);
  assert.equal(acksOf.size, 150 + 150 + 50);
  for (const c of [a1, a2, b1]) {
    assert.ok(c.states.includes('offline'), `${c.label} saw the server go`);
    assert.ok(c.stats.outbox === 0);
  }

  // storage holds every send once, under the id its ack carried
  const dmStored = await stored(a1, dm.id);
  const groupStored = await stored(a1, group.id);
  const storedIds = new Map([...dmStored, ...groupStored].map((m) => [m.msg_id, m.server_id]));
  assert.equal(dmStored.length + groupStored.length, 350, 'nothing stored twice');
  for (const [msgId, ack] of acksOf) {
    assert.equal(storedIds.get(msgId), ack.server_id, `${msgId} stored under its acked id`);
  }

  b2.start();
  for (const conv of [dm.id, group.id]) {
    await assertComplete([a1, a2, b1, b2], conv);
  }
  assert.ok(b2.stats.pagesFetched > 0, 'the tablet paged history back');
  assert.ok([a1, a2, b1].some((c) => c.stats.resends > 0), 'sends in flight at the kill were resent');
  t.diagnostic('kill -9 run: ' + JSON.stringify([a1, a2, b1, b2].map((c) => ({ device: c.label, ...c.stats }))));
  [a1, a2, b1, b2].forEach((c) => c.stop());
});

test('the token supplier is asked again on reconnect: an expiring token is replaced and the client carries on', { timeout: 180_000 }, async () => {
  let calls = 0;
  const e1 = device('erin', 'laptop', {
    token: () => {
      calls++;
      return server.token('erin', 2); // the server closes the socket (1008) once it expires
    },
  });
  const f1 = device('frank', 'laptop');
  await Promise.all([e1.start(), f1.start()]);
  const dm = await e1.api.createDm('frank');
  await f1.track(dm.id);
  await waitFor('two reconnects with fresh tokens', () => calls >= 3, 90_000);
  const ack = await e1.send(dm.id, 'after the refresh');
  await waitFor('frank gets it', () => f1.messages.some((m) => m.server_id === ack.server_id), 60_000);
  assert.ok(e1.states.filter((s) => s === 'offline').length >= 2);
  e1.stop();
  f1.stop();
});

test('a token the server refuses (401): the client gives up and start() rejects', { timeout: 120_000 }, async () => {
  const bad = device('mallory', 'laptop', { token: () => server.token('mallory').slice(0, -4) + 'AAAA' });
  await assert.rejects(bad.start(), (e) => e instanceof ParleyError && e.code === 'unauthorized');
  assert.equal(bad.state, 'closed');
});
