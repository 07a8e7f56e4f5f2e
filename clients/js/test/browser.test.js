// The web app served by the jar at `/`, in headless Chromium (Debian's chromium package, installed by
// scripts/browser-deps; driven by playwright-core, which never downloads a browser). Two browser
// contexts are two users: a DM, messages both ways, typing and read ticks, then the server stopped
// and started again on the same port and data dir while a message waits to be sent.
// PARLEY_SCREENSHOT=path writes a screenshot of the running app there (docs/web-app.png).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { ParleyClient } from '../src/index.js';
import { ParleyServer, waitFor } from './server.js';

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const WAIT = 60_000;
const server = new ParleyServer({ PARLEY_DEV_TOKEN_ENABLED: 'true' });
let browser;
const problems = [];

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/browser-deps (installs Debian's chromium)`);
  }
  await server.start();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await server.stop();
});

/** A signed-in page of `user` in a context of its own (its own storage: another browser). */
async function signedIn(user, viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  page.on('pageerror', (e) => problems.push(`${user}: ${e.message}`));
  page.on('console', (m) => {
    // a CSP violation or a failed module load shows here; network errors while the server is down are expected
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection|ERR_CONNECTION_REFUSED/.test(m.text())) {
      problems.push(`${user}: ${m.text()}`);
    }
  });
  const res = await page.goto(server.url + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /script-src 'self'/);
  await page.getByLabel('User name').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#me', { hasText: user }).waitFor();
  await page.locator('#banner').waitFor({ state: 'hidden' });
  return page;
}

const bubbles = (page, text) => page.locator('#messages li.msg .body', { hasText: text });

test('two users in two browsers: a DM, messages both ways, typing, read ticks, and a server restart', { timeout: 240_000 }, async () => {
  const alice = await signedIn('alice', { width: 900, height: 640 });
  const bob = await signedIn('bob', { width: 390, height: 740 }); // phone width

  // alice starts a DM with bob and writes first
  await alice.getByLabel('New conversation with').fill('bob');
  await alice.getByRole('button', { name: 'Start' }).click();
  await alice.locator('#conv-title', { hasText: 'bob' }).waitFor();
  await alice.locator('#conv-list button', { hasText: 'bob' }).locator('.dot[data-presence=online]').waitFor();
  await alice.getByLabel('Message', { exact: true }).fill('hello bob <b>not bold</b>');
  await alice.getByLabel('Message', { exact: true }).press('Enter');
  const first = alice.locator('#messages li.msg.mine').first();
  await first.locator('.tick:not([data-state=queued])').waitFor();

  // bob sees the conversation arrive with one unread, opens it (keyboard only) and reads
  const entry = bob.locator('#conv-list button', { hasText: 'alice' });
  await entry.locator('.unread', { hasText: '1' }).waitFor();
  await entry.focus();
  await bob.keyboard.press('Enter');
  await bubbles(bob, 'hello bob').waitFor();
  // text stays text: the markup arrives as characters, no element is made of it
  assert.equal(await bob.locator('#messages b').count(), 0);
  assert.equal(await bubbles(bob, 'hello bob').textContent(), 'hello bob <b>not bold</b>');
  await first.locator('.tick[data-state=read]').waitFor();

  // bob types: alice sees it; bob's message reaches her and her reading shows on bob's tick
  await bob.getByLabel('Message', { exact: true }).pressSequentially('hi al', { delay: 20 });
  await alice.locator('#typing', { hasText: 'bob is typing' }).waitFor();
  await bob.getByLabel('Message', { exact: true }).pressSequentially('ice');
  await bob.getByRole('button', { name: 'Send' }).click();
  await bubbles(alice, 'hi alice').waitFor();
  await alice.locator('#typing', { hasText: /^$/ }).waitFor();
  await bob.locator('#messages li.msg.mine .tick[data-state=read]').waitFor();

  if (process.env.PARLEY_SCREENSHOT) {
    await alice.getByLabel('Message', { exact: true }).fill('see you at 3?');
    await alice.screenshot({ path: process.env.PARLEY_SCREENSHOT });
    await alice.getByLabel('Message', { exact: true }).fill('');
  }

  // the server stops (SIGTERM: sockets closed with 1012): both pages say so
  await server.term();
  await alice.locator('#banner').waitFor({ state: 'visible' });
  await bob.locator('#banner').waitFor({ state: 'visible' });
  assert.match(await alice.locator('#banner').textContent(), /Offline|Reconnecting/);

  // alice writes while it is down: the message waits, marked as queued, and the banner counts it
  await alice.getByLabel('Message', { exact: true }).fill('sent while the server was down');
  await alice.getByLabel('Message', { exact: true }).press('Enter');
  await alice.locator('#messages li.msg.mine .tick[data-state=queued]').waitFor();
  await alice.locator('#banner', { hasText: '1 message waiting' }).waitFor();

  // back on the same port and data dir: both reconnect, the queued message is sent and arrives once
  await server.start({ samePort: true });
  await alice.locator('#banner').waitFor({ state: 'hidden' });
  await bob.locator('#banner').waitFor({ state: 'hidden' });
  await bubbles(bob, 'sent while the server was down').waitFor();
  await alice.locator('#messages li.msg.mine .tick[data-state=queued]').waitFor({ state: 'detached' });
  await alice.locator('#messages li.msg.mine').last().locator('.tick[data-state=read]').waitFor();
  // and still once each after a while of resends and syncs: every bubble's text is there exactly once
  await bob.getByLabel('Message', { exact: true }).fill('and back');
  await bob.getByLabel('Message', { exact: true }).press('Enter');
  await bubbles(alice, 'and back').waitFor();
  for (const page of [alice, bob]) {
    const texts = await page.locator('#messages li.msg .body').allTextContents();
    assert.deepEqual(texts, ['hello bob <b>not bold</b>', 'hi alice', 'sent while the server was down', 'and back']);
  }
  assert.deepEqual(problems, []);
});

test('scroll-back paging through history, and a group whose members change', { timeout: 180_000 }, async () => {
  // carol wrote 80 messages to dave, and dave read them all on another device
  const seed = (user) => new ParleyClient({ url: server.url, token: () => server.token(user), device: 'seed', discover: false });
  const carol = seed('carol');
  const daveElsewhere = seed('dave');
  try {
    await carol.start();
    const dm = await carol.api.createDm('dave');
    let last;
    for (let i = 1; i <= 80; i++) last = await carol.send(dm.id, `note ${i}`);
    await daveElsewhere.start();
    daveElsewhere.markRead(dm.id, last.server_id);
    await waitFor('dave\'s read mark', async () => (await daveElsewhere.api.getConversation(dm.id)).last_read_id === last.server_id
      || (await daveElsewhere.api.listConversations()).conversations.some((c) => c.last_read_id === last.server_id));
  } finally {
    carol.stop();
    daveElsewhere.stop();
  }

  // nothing unread: the app shows the newest page, and older ones as dave scrolls up
  const dave = await signedIn('dave', { width: 800, height: 600 });
  await dave.locator('#conv-list button', { hasText: 'carol' }).click();
  await bubbles(dave, /^note 80$/).waitFor();
  await waitFor('the newest page', async () => (await dave.locator('#messages li.msg').count()) === 50, WAIT);
  await waitFor('every older page', async () => {
    await dave.locator('#messages').evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); });
    return (await dave.locator('#messages li.msg').count()) === 80;
  }, WAIT, 200);
  const notes = await dave.locator('#messages li.msg .body').allTextContents();
  assert.deepEqual(notes, Array.from({ length: 80 }, (_, i) => `note ${i + 1}`), 'all of them, oldest first, once each');

  // a group: dave adds erin and removes carol
  await dave.getByLabel('New conversation with').fill('carol, erin');
  await dave.getByLabel('Group name (optional)').fill('team');
  await dave.getByRole('button', { name: 'Start' }).click();
  await dave.locator('#conv-title', { hasText: 'team' }).waitFor();
  await dave.getByRole('button', { name: 'Members' }).click();
  await dave.locator('#member-list li', { hasText: 'erin' }).waitFor();
  await dave.getByRole('button', { name: 'Remove erin' }).click();
  await dave.locator('#member-list li', { hasText: 'erin' }).waitFor({ state: 'detached' });
  await dave.getByLabel('Add member').fill('frank');
  await dave.getByRole('button', { name: 'Add', exact: true }).click();
  await dave.locator('#member-list li', { hasText: 'frank' }).waitFor();
  assert.deepEqual((await dave.locator('#member-list li span').allTextContents()).sort(), ['carol', 'dave (you)', 'frank']);

  // Web Push: offered as the embedded server has a VAPID key; the service worker installs (a
  // headless browser has no push service to subscribe with, so the button may end up 'failed')
  const push = dave.locator('#push-enable');
  await push.waitFor();
  await push.click();
  await waitFor('the service worker', () => dave.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/app/');
    return reg?.active?.scriptURL ?? reg?.installing?.scriptURL ?? reg?.waiting?.scriptURL ?? null;
  }), WAIT);
  await dave.locator('#push-enable', { hasText: /Notifications on|failed/ }).waitFor();
  assert.deepEqual(problems, []);
});
