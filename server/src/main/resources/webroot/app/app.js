// Parley's web app: plain ES modules on the JavaScript SDK (served from /sdk/). Every piece of user
// data reaches the page through textContent or attributes, never as HTML.
import { ParleyClient, LocalStorageStore, devToken, ParleyError, uuidv7 } from '/sdk/index.js';

const base = location.origin;
const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'parley:token';
const USER_KEY = 'parley:user';
const PAGE = 50;

/** @type {ParleyClient | null} */
let client = null;
let me = null;
/** Whether this page was online once: later connects are reconnects, worth a banner. */
let wasOnline = false;
let lastState = { state: 'idle' };
/** conv id → {info, messages: Map<server_id, msg>, pending: Map<msg_id, msg>, unread, lastId, oldest, more, loaded} */
const convs = new Map();
let current = null;
const presence = new Map();
const typingTimers = new Map();
/** conv → {delivered: id, read: id}: the highest receipt any other member sent for this user's messages */
const receipts = new Map();

const cmp = (a, b) => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
const maxId = (a, b) => (a == null ? b : b == null ? a : cmp(a, b) >= 0 ? a : b);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

// ---- sign in ----

function tokenFromUrl() {
  // a deployment's login page may redirect back with #access_token=…; take it out of the address bar
  const h = new URLSearchParams(location.hash.slice(1));
  const t = h.get('access_token');
  if (t) history.replaceState(null, '', location.pathname + location.search);
  return t;
}

async function signIn({ user, token }) {
  const supplier = token
    ? () => token
    : () => devToken(base, user);
  const device = deviceId();
  // the first token tells who we are (its sub); later ones are fetched by the SDK before each connect
  const first = await supplier();
  const sub = token ? subOf(token) : user;
  const store = new LocalStorageStore(`parley:${sub}:${device}:`);
  let firstUsed = false;
  client = new ParleyClient({
    url: base,
    token: () => {
      if (!firstUsed) {
        firstUsed = true;
        return first;
      }
      return supplier();
    },
    device,
    store,
    autoDelivered: true,
    discover: 'unread',
  });
  wire(client);
  me = sub;
  sessionStorage.setItem(USER_KEY, user || '');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  $('signin').hidden = true;
  $('chat').hidden = false;
  $('me').textContent = me;
  document.title = `Parley: ${me}`;
  await client.start();
  await loadConversations();
  offerPush();
}

function subOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload)).sub;
  } catch {
    return 'me';
  }
}

function deviceId() {
  let d = localStorage.getItem('parley:device');
  if (!d) {
    d = 'web-' + crypto.getRandomValues(new Uint32Array(2)).join('').slice(0, 16);
    localStorage.setItem('parley:device', d);
  }
  return d;
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const user = $('signin-user').value.trim();
  const token = $('signin-token').value.trim();
  $('signin-error').textContent = '';
  if (!user && !token) {
    $('signin-error').textContent = 'Enter a user name, or a token.';
    return;
  }
  $('signin-submit').disabled = true;
  try {
    await signIn({ user, token });
  } catch (err) {
    $('signin').hidden = false;
    $('chat').hidden = true;
    client?.stop();
    client = null;
    $('signin-error').textContent = err instanceof ParleyError && err.status === 404
      ? 'This server gives no development tokens: sign in with a token.'
      : `Could not sign in: ${err.message}`;
    if (err instanceof ParleyError && err.status === 404) $('signin-token-box').open = true;
  } finally {
    $('signin-submit').disabled = false;
  }
});

$('signout').addEventListener('click', () => {
  client?.stop();
  sessionStorage.clear();
  location.reload();
});

// ---- connection state ----

function showState(s) {
  lastState = s;
  const b = $('banner');
  b.dataset.state = s.state;
  const queued = client ? client.pending().length : 0;
  const q = queued ? ` ${queued} message${queued === 1 ? '' : 's'} waiting to be sent.` : '';
  if (s.state === 'online') {
    wasOnline = true;
    b.hidden = true;
    b.textContent = '';
  } else if (s.state === 'offline') {
    b.hidden = false;
    b.textContent = `Offline: reconnecting in ${Math.ceil((s.delayMs ?? 0) / 1000)} s.${q}`;
  } else if (s.state === 'connecting' || s.state === 'syncing') {
    // the first connect after sign-in is not news; later ones are reconnects
    if (!wasOnline) return;
    b.hidden = false;
    b.textContent = `Reconnecting…${q}`;
  } else if (s.state === 'closed' && s.reason === 'unauthorized') {
    b.hidden = false;
    b.textContent = 'Signed out: the server refused the token. Sign in again.';
  }
}

// ---- events ----

function wire(c) {
  c.on('state', showState);
  c.on('message', (m) => {
    const cv = ensureConv(m.conv);
    cv.messages.set(m.server_id, m);
    cv.lastId = maxId(cv.lastId, m.server_id);
    cv.activity = Math.max(cv.activity, m.ts ?? Date.now());
    if (m.from !== me) {
      if (m.conv === current && document.visibilityState === 'visible') {
        c.markRead(m.conv, m.server_id);
      } else if (!cv.info?.last_read_id || cmp(m.server_id, cv.info.last_read_id) > 0) {
        cv.unread++;
      }
      clearTyping(m.conv, m.from);
    }
    if (!cv.info) refreshConv(m.conv);
    scheduleRender(m.conv === current);
  });
  c.on('ack', (a) => {
    const cv = ensureConv(a.conv);
    const p = cv.pending.get(a.msg_id);
    cv.pending.delete(a.msg_id);
    cv.messages.set(a.server_id, { ...(p ?? {}), conv: a.conv, server_id: a.server_id, from: me, msg_id: a.msg_id,
      body: a.body, media: a.media, ts: a.ts });
    cv.lastId = maxId(cv.lastId, a.server_id);
    cv.activity = Math.max(cv.activity, a.ts);
    renderList();
    if (a.conv === current) renderMessages(true);
  });
  c.on('receipt', (r) => {
    if (r.user === me) return;
    const rc = receipts.get(r.conv) ?? { delivered: null, read: null };
    rc.delivered = maxId(rc.delivered, r.server_id);
    if (r.state === 'read') rc.read = maxId(rc.read, r.server_id);
    receipts.set(r.conv, rc);
    if (r.conv === current) renderMessages(false);
  });
  c.on('typing', (t) => {
    if (t.user === me) return;
    const key = `${t.conv}\n${t.user}`;
    clearTimeout(typingTimers.get(key));
    typingTimers.set(key, setTimeout(() => clearTyping(t.conv, t.user), 3500));
    renderTyping();
  });
  c.on('presence', (p) => {
    presence.set(p.user, p.state);
    renderList();
  });
  c.on('untracked', ({ conv }) => {
    convs.delete(conv);
    if (current === conv) closeConv();
    renderList();
  });
}

/** The list and the open conversation drawn once for a batch of messages the SDK hands over together. */
let renderQueued = null;
function scheduleRender(stickToBottom) {
  if (renderQueued) {
    renderQueued.stick ||= stickToBottom;
    return;
  }
  renderQueued = { stick: stickToBottom };
  queueMicrotask(() => {
    const { stick } = renderQueued;
    renderQueued = null;
    renderList();
    if (current) renderMessages(stick);
  });
}

function clearTyping(conv, user) {
  const key = `${conv}\n${user}`;
  clearTimeout(typingTimers.get(key));
  typingTimers.delete(key);
  renderTyping();
}

// ---- conversations ----

function ensureConv(id) {
  let cv = convs.get(id);
  if (!cv) {
    cv = { id, info: null, messages: new Map(), pending: new Map(), unread: 0, lastId: null, oldest: null,
      more: true, loaded: false, activity: 0 };
    convs.set(id, cv);
  }
  return cv;
}

function setInfo(info) {
  const cv = ensureConv(info.id);
  cv.info = { ...(cv.info ?? {}), ...info };
  if (info.last_message_id) cv.lastId = maxId(cv.lastId, info.last_message_id);
  cv.activity = Math.max(cv.activity, info.created_at ?? 0);
  return cv;
}

async function loadConversations() {
  for await (const info of client.api.conversations()) setInfo(info);
  subscribePresence();
  renderList();
}

async function refreshConv(id) {
  const cv = ensureConv(id);
  if (cv.fetching) return; // a sync's burst of a new conversation asks once
  cv.fetching = true;
  try {
    setInfo(await client.api.getConversation(id));
    subscribePresence();
    renderList();
    if (id === current) renderHeader();
  } catch {
    // not a member any more, or offline: the list shows the conversation without its name
  } finally {
    cv.fetching = false;
  }
}

function peerOf(cv) {
  if (cv.info?.type !== 'dm') return null;
  return (cv.info.members ?? []).find((u) => u !== me) ?? me;
}

function titleOf(cv) {
  if (!cv.info) return cv.id;
  if (cv.info.type === 'dm') return peerOf(cv);
  return cv.info.name || (cv.info.members ?? []).filter((u) => u !== me).join(', ') || 'Group';
}

function subscribePresence() {
  const users = new Set();
  for (const cv of convs.values()) for (const u of cv.info?.members ?? []) if (u !== me) users.add(u);
  if (users.size) client.subscribePresence([...users].slice(0, 1000));
}

function order() {
  return [...convs.values()].sort((a, b) => {
    if (a.lastId && b.lastId) return cmp(b.lastId, a.lastId) || b.activity - a.activity;
    if (a.lastId || b.lastId) return b.activity - a.activity || (a.lastId ? -1 : 1);
    return b.activity - a.activity;
  });
}

function renderList() {
  const list = $('conv-list');
  list.replaceChildren(...order().map((cv) => {
    const peer = peerOf(cv);
    const state = peer ? presence.get(peer) ?? 'offline' : null;
    const label = `${titleOf(cv)}${cv.unread ? `, ${cv.unread} unread` : ''}${state ? `, ${state}` : ''}`;
    return el('li', {},
      el('button', { type: 'button', 'data-conv': cv.id, 'aria-current': cv.id === current ? 'true' : 'false',
        'aria-label': label, onclick: () => openConv(cv.id) },
        el('span', { class: 'dot', 'data-presence': state ?? 'group', 'aria-hidden': 'true', hidden: !peer }),
        el('span', { class: 'conv-name', text: titleOf(cv) }),
        cv.unread ? el('span', { class: 'unread', text: String(cv.unread) }) : null));
  }));
}

$('new-conv').addEventListener('submit', async (e) => {
  e.preventDefault();
  const members = $('new-members').value.split(',').map((s) => s.trim()).filter(Boolean);
  const name = $('new-name').value.trim();
  $('new-error').textContent = '';
  try {
    const info = members.length === 1 && !name
      ? await client.api.createDm(members[0])
      : await client.api.createGroup({ name: name || undefined, members });
    setInfo(info);
    await client.track(info.id);
    subscribePresence();
    $('new-members').value = '';
    $('new-name').value = '';
    renderList();
    openConv(info.id);
  } catch (err) {
    $('new-error').textContent = err.message;
  }
});

// ---- one conversation ----

async function openConv(id) {
  current = id;
  const cv = ensureConv(id);
  cv.unread = 0;
  $('conv').hidden = false;
  $('chat').classList.add('in-conv');
  $('members').hidden = true;
  $('members-toggle').setAttribute('aria-expanded', 'false');
  renderHeader();
  renderList();
  renderMessages(true);
  renderTyping();
  $('composer-input').focus();
  if (!cv.loaded) await loadOlder(cv);
  markRead(cv);
}

function closeConv() {
  current = null;
  $('conv').hidden = true;
  $('chat').classList.remove('in-conv');
  renderList();
}

$('back').addEventListener('click', closeConv);

function markRead(cv) {
  let newest = null;
  for (const m of cv.messages.values()) if (m.from !== me) newest = maxId(newest, m.server_id);
  if (newest) client.markRead(cv.id, newest);
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && current) markRead(ensureConv(current));
});

async function loadOlder(cv) {
  if (!cv.more || cv.loading) return;
  cv.loading = true;
  const box = $('messages');
  const fromBottom = box.scrollHeight - box.scrollTop;
  try {
    const page = await client.api.historyPage(cv.id, { before: cv.oldest ?? undefined, limit: PAGE });
    for (const m of page.messages) {
      if (!cv.messages.has(m.server_id)) cv.messages.set(m.server_id, m);
      cv.oldest = cv.oldest == null ? m.server_id : cmp(m.server_id, cv.oldest) < 0 ? m.server_id : cv.oldest;
    }
    cv.more = page.next_cursor != null;
    cv.loaded = true;
  } catch {
    // offline: the button stays to try again
  } finally {
    cv.loading = false;
  }
  if (cv.id === current) {
    renderMessages(false);
    box.scrollTop = box.scrollHeight - fromBottom;
  }
}

$('messages').addEventListener('scroll', () => {
  if (current && $('messages').scrollTop < 40) loadOlder(ensureConv(current));
});

function tickOf(cv, m) {
  if (m.server_id == null) return ['queued', '🕓', 'waiting to be sent'];
  const rc = receipts.get(cv.id);
  const read = rc?.read && cmp(m.server_id, rc.read) <= 0;
  const delivered = rc?.delivered && cmp(m.server_id, rc.delivered) <= 0;
  if (read) return ['read', '✓✓', 'read'];
  if (delivered) return ['delivered', '✓✓', 'delivered'];
  return ['sent', '✓', 'sent'];
}

function renderMessages(stickToBottom) {
  const cv = ensureConv(current);
  const box = $('messages');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const sorted = [...cv.messages.values()].sort((a, b) => cmp(a.server_id, b.server_id));
  const items = [];
  if (cv.more && cv.loaded) {
    items.push(el('li', { class: 'older' },
      el('button', { type: 'button', text: 'Load older messages', onclick: () => loadOlder(cv) })));
  }
  for (const m of [...sorted, ...cv.pending.values()]) {
    const mine = m.from === me;
    const time = new Date(m.ts ?? Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const meta = el('span', { class: 'meta' }, el('time', { text: time }));
    if (mine) {
      const [state, mark, label] = tickOf(cv, m);
      meta.append(' ', el('span', { class: 'tick', 'data-state': state, 'aria-label': label, title: label, text: mark }));
    }
    items.push(el('li', { class: mine ? 'msg mine' : 'msg', 'data-server-id': m.server_id ?? '', 'data-msg-id': m.msg_id ?? '' },
      cv.info?.type === 'group' && !mine ? el('span', { class: 'from', text: m.from }) : null,
      el('span', { class: 'body', text: m.body ?? '' }),
      meta));
  }
  box.replaceChildren(...items);
  if (stickToBottom || atBottom) box.scrollTop = box.scrollHeight;
}

function renderTyping() {
  if (!current) return;
  const users = [...typingTimers.keys()].filter((k) => k.startsWith(current + '\n')).map((k) => k.split('\n')[1]);
  $('typing').textContent = users.length ? `${users.join(', ')} ${users.length === 1 ? 'is' : 'are'} typing…` : '';
}

function renderHeader() {
  const cv = ensureConv(current);
  $('conv-title').textContent = titleOf(cv);
  const group = cv.info?.type === 'group';
  $('add-member').hidden = !group;
  $('member-list').replaceChildren(...(cv.info?.members ?? []).map((u) => el('li', {},
    el('span', { text: u === me ? `${u} (you)` : u }),
    group && (u === me || cv.info.owner === me)
      ? el('button', { type: 'button', text: u === me ? 'Leave' : 'Remove', 'aria-label': `Remove ${u}`,
        onclick: () => removeMember(cv, u) })
      : null)));
}

$('members-toggle').addEventListener('click', () => {
  const open = $('members').hidden;
  $('members').hidden = !open;
  $('members-toggle').setAttribute('aria-expanded', String(open));
  if (open) refreshConv(current);
});

$('add-member').addEventListener('submit', async (e) => {
  e.preventDefault();
  const cv = ensureConv(current);
  const users = $('add-member-name').value.split(',').map((s) => s.trim()).filter(Boolean);
  $('members-error').textContent = '';
  try {
    setInfo(await client.api.addMembers(cv.id, users));
    $('add-member-name').value = '';
    subscribePresence();
    renderHeader();
    renderList();
  } catch (err) {
    $('members-error').textContent = err.message;
  }
});

async function removeMember(cv, user) {
  $('members-error').textContent = '';
  try {
    await client.api.removeMember(cv.id, user);
    if (user === me) {
      client.untrack(cv.id);
      convs.delete(cv.id);
      closeConv();
    } else {
      await refreshConv(cv.id);
    }
  } catch (err) {
    $('members-error').textContent = err.message;
  }
}

// ---- sending ----

$('composer-input').addEventListener('input', () => {
  if (current && $('composer-input').value) client.typing(current);
});

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const body = $('composer-input').value;
  if (!body.trim() || !current) return;
  $('composer-input').value = '';
  const cv = ensureConv(current);
  const msgId = uuidv7();
  cv.pending.set(msgId, { conv: cv.id, msg_id: msgId, from: me, body, ts: Date.now(), server_id: null });
  const p = client.send(cv.id, body, { msgId });
  renderMessages(true);
  showState(lastState); // counts the new send while offline
  p.then(() => showState(lastState), (err) => {
    cv.pending.delete(msgId);
    if (cv.id === current) renderMessages(false);
    $('members-error').textContent = `Not sent: ${err.message}`;
    $('members').hidden = false;
  });
});

// ---- Web Push ----

async function offerPush() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return;
  let key = null;
  try {
    key = await client.api.webPushKey();
  } catch {
    return;
  }
  if (!key) return; // Web Push is off on this server
  const button = $('push-enable');
  button.hidden = false;
  button.onclick = async () => {
    button.disabled = true;
    try {
      const reg = await navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' });
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      await client.api.registerPush({ provider: 'webpush', subscription: sub.toJSON() });
      button.textContent = 'Notifications on';
    } catch (err) {
      button.disabled = false;
      button.textContent = 'Enable notifications (failed)';
      button.title = err.message;
    }
  };
}

// ---- start ----

const saved = tokenFromUrl() ?? sessionStorage.getItem(TOKEN_KEY);
const savedUser = sessionStorage.getItem(USER_KEY);
if (saved || savedUser) {
  signIn({ user: savedUser || '', token: saved || '' }).catch(() => {
    $('signin').hidden = false;
    $('chat').hidden = true;
  });
}
