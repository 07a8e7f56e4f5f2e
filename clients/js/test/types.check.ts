// Type-checked by `npm test` (tsc): the declarations describe a usable API. Not run.
import { ParleyClient, MemoryStore, LocalStorageStore, ParleyError, devToken, uuidv7, Backoff } from '@parley/client';
import type { Message, Ack, StateEvent, Conversation, HistoryPage, StorageLike } from '@parley/client';

declare const console: { log(...args: unknown[]): void };

async function example(storage: StorageLike): Promise<void> {
  const token = await devToken('http://localhost:8080', 'alice');
  const client = new ParleyClient({
    url: () => 'http://localhost:8080',
    token: async () => token,
    device: 'laptop',
    store: new LocalStorageStore('parley:alice:laptop:', storage),
    discover: 'unread',
  });
  const off: () => void = client.on('message', (m: Message) => console.log(m.conv, m.server_id, m.body));
  client.on('state', (s: StateEvent) => console.log(s.state, s.delayMs));
  client.on('error', (e: ParleyError) => console.log(e.code));
  await client.start();
  const dm: Conversation = await client.api.createDm('bob');
  await client.track(dm.id);
  const ack: Ack = await client.send(dm.id, 'hi', { msgId: uuidv7() });
  for await (const page of client.api.history(dm.id, { limit: 50 })) {
    const p: HistoryPage = page;
    console.log(p.messages.length, ack.server_id);
  }
  for await (const c of client.api.conversations()) {
    console.log(c.last_read_id, c.muted);
  }
  client.markRead(dm.id, ack.server_id);
  client.subscribePresence(['bob']);
  new MemoryStore({ [dm.id]: '0' });
  new Backoff({ baseMs: 100, maxMs: 1000 }).next();
  off();
  client.stop();
}
void example;
