// Type definitions for @parley/client (docs/protocol.md is the wire format these describe).

export declare const VERSION: string;

/** Ids (conversation ids, server_ids) are decimal strings of 64-bit integers: compare them as BigInt. */
export type Id = string;

/** A `msg` frame, or one message of a history page. */
export interface Message {
  op?: 'msg';
  conv: Id;
  server_id: Id;
  from: string;
  msg_id: string;
  body: string;
  media?: unknown[] | null;
  /** epoch milliseconds */
  ts: number;
}

export interface Ack {
  msg_id: string;
  conv: Id;
  server_id: Id;
  ts: number;
}

export interface AckEvent extends Ack {
  body: string;
  media?: unknown[];
}

export interface Receipt {
  op: 'receipt';
  conv: Id;
  server_id: Id;
  user: string;
  state: 'delivered' | 'read';
}

export interface Typing {
  op: 'typing';
  conv: Id;
  user: string;
}

export interface Presence {
  op: 'presence';
  user: string;
  state: 'online' | 'offline';
  last_seen: number | null;
}

export type ClientState = 'idle' | 'connecting' | 'syncing' | 'online' | 'offline' | 'closed';

export interface StateEvent {
  state: ClientState;
  previous: ClientState;
  /** the WebSocket close code that ended the connection (offline, closed) */
  code?: number;
  reason?: string;
  /** offline: how long until the next attempt */
  delayMs?: number;
  /** connecting, offline: consecutive failed attempts so far */
  attempt?: number;
}

export interface UntrackedEvent {
  conv: Id;
  code: 'not_member' | 'not_found';
}

export interface ClientEvents {
  message: Message;
  ack: AckEvent;
  receipt: Receipt;
  typing: Typing;
  presence: Presence;
  state: StateEvent;
  untracked: UntrackedEvent;
  error: ParleyError;
}

/** Where a client keeps the last server_id handed to the app per conversation. */
export interface LastSeenStore {
  load(): Record<Id, Id> | Promise<Record<Id, Id>>;
  save(conv: Id, serverId: Id): void | Promise<void>;
  remove?(conv: Id): void | Promise<void>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** in [0, 1) */
  random(): number;
}

/** The part of the WHATWG WebSocket a client uses. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** The part of the Fetch API the client uses (the global `fetch` fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** The server's base URL (`http(s)://host:port`, `ws(s)://` works too), or a function giving it for each connect. */
  url: string | (() => string | Promise<string>);
  /** Called before every (re)connect, and when REST answers 401, so an expiring token can be refreshed. */
  token: () => string | Promise<string>;
  /** This device's id, `[A-Za-z0-9_-]{1,64}` (default `default`). */
  device?: string;
  /** Last seen ids (default: a {@link MemoryStore}). */
  store?: LastSeenStore;
  /**
   * On every connect, list the user's conversations and track the new ones: from the user's read
   * mark (`'unread'`, the default), from their first message (`'all'`), from their newest
   * (`'latest'`), or not at all (`false`: only conversations given to `track` or seen live).
   */
  discover?: false | 'unread' | 'all' | 'latest';
  /** Send `delivered` for the newest message of each batch handed over (default false). */
  autoDelivered?: boolean;
  /** Application ping period (default 30000). */
  pingMs?: number;
  /** A connection with no frame for this long is taken as dead (default 75000). */
  deadMs?: number;
  /** An unacked send is sent again after this long (default 3000). */
  resendMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect and send-retry backoff (defaults 500 ms doubling to 30000 ms, with jitter). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Conversations per `sync` frame (the server's `limits.sync_convs_max`, default 100). */
  syncBatch?: number;
  /** History page size while catching up (1–200, default 200). */
  pageSize?: number;
  /** Sends whose frame is larger are rejected with `too_large` at once (default 262144, the server's `limits.frame_max_bytes`). */
  frameMaxBytes?: number;
  /** A WebSocket implementation (default: the global one, else the `ws` package). */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** Timers and randomness (tests). */
  clock?: Partial<Clock>;
}

export interface SendOptions {
  media?: unknown[];
  /** Your own msg_id (1–64 chars), e.g. to resend after the app restarted; default a UUIDv7. */
  msgId?: string;
}

export interface PendingSend {
  msgId: string;
  conv: Id;
  body: string;
  media?: unknown[];
  attempts: number;
}

export interface ClientStats {
  duplicatesDropped: number;
  resends: number;
  connects: number;
  tokenFetches: number;
  pagesFetched: number;
  outbox: number;
}

export declare class Emitter<E> {
  on<K extends keyof E>(type: K, fn: (event: E[K]) => void): () => void;
  off<K extends keyof E>(type: K, fn: (event: E[K]) => void): void;
  once<K extends keyof E>(type: K, fn: (event: E[K]) => void): () => void;
}

export declare const RETRYABLE: readonly string[];

export declare class ParleyClient extends Emitter<ClientEvents> {
  constructor(options: ClientOptions);
  readonly api: ParleyApi;
  readonly state: ClientState;
  readonly user: string | null;
  readonly device: string;
  readonly stats: ClientStats;
  start(): Promise<void>;
  stop(): void;
  track(conv: Id, since?: Id): Promise<void>;
  untrack(conv: Id): void;
  tracked(): Record<Id, Id>;
  send(conv: Id, body: string, options?: SendOptions): Promise<Ack>;
  pending(): PendingSend[];
  cancel(msgId: string): boolean;
  markDelivered(conv: Id, serverId: Id): void;
  markRead(conv: Id, serverId: Id): void;
  typing(conv: Id): void;
  subscribePresence(users: string[]): void;
}

export interface Conversation {
  id: Id;
  type: 'dm' | 'group';
  name: string | null;
  owner: string | null;
  members?: string[];
  members_count: number;
  created_at: number;
  last_message_id: Id | null;
  last_read_id?: Id | null;
  muted?: boolean;
}

export interface ConversationPage {
  conversations: Conversation[];
  next_cursor: string | null;
}

export interface HistoryPage {
  /** newest first */
  messages: Message[];
  next_cursor: Id | null;
}

export interface Device {
  id: string;
  provider: 'webpush' | 'fcm' | 'apns' | null;
  registered_at: number | null;
  last_seen: number | null;
  online: boolean;
}

export type PushRegistration =
  | { provider: 'webpush'; subscription: { endpoint: string; keys: { p256dh: string; auth: string } } }
  | { provider: 'fcm'; token: string }
  | { provider: 'apns'; token: string; topic?: string; sandbox?: boolean };

export declare class ParleyApi {
  constructor(options: {
    baseUrl: () => Promise<string>;
    token: () => Promise<string>;
    refreshToken: () => Promise<string>;
    fetch?: FetchLike;
    device?: string;
  });
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  listConversations(options?: { limit?: number; cursor?: string }): Promise<ConversationPage>;
  conversations(options?: { pageSize?: number }): AsyncGenerator<Conversation, void, void>;
  getConversation(id: Id): Promise<Conversation>;
  createDm(user: string): Promise<Conversation>;
  createGroup(options: { name?: string; members: string[] }): Promise<Conversation>;
  addMembers(id: Id, users: string[]): Promise<Conversation>;
  removeMember(id: Id, user: string): Promise<void>;
  setMuted(id: Id, muted: boolean): Promise<void>;
  historyPage(conv: Id, options?: { before?: Id; limit?: number }): Promise<HistoryPage>;
  history(conv: Id, options?: { before?: Id; limit?: number }): AsyncGenerator<HistoryPage, void, void>;
  listDevices(): Promise<{ devices: Device[] }>;
  registerPush(registration: PushRegistration, device?: string): Promise<void>;
  unregisterPush(device?: string): Promise<void>;
  webPushKey(): Promise<string | null>;
}

export declare function devToken(url: string, user: string, options?: { email?: string; fetch?: FetchLike }): Promise<string>;

export declare class MemoryStore implements LastSeenStore {
  constructor(initial?: Record<Id, Id>);
  load(): Record<Id, Id>;
  save(conv: Id, serverId: Id): void;
  remove(conv: Id): void;
}

/** The part of the Web Storage API a {@link LocalStorageStore} uses. */
export interface StorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export declare class LocalStorageStore implements LastSeenStore {
  constructor(prefix: string, storage?: StorageLike);
  load(): Record<Id, Id>;
  save(conv: Id, serverId: Id): void;
  remove(conv: Id): void;
}

export declare class ParleyError extends Error {
  constructor(code: string, message: string, details?: { status?: number; retryAfterMs?: number; conv?: Id; msgId?: string });
  /** A docs/protocol.md error code, or `network`, `cancelled`, `closed`, `bad_frame`. */
  readonly code: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly conv?: Id;
  readonly msgId?: string;
}

export declare class Backoff {
  constructor(options?: { baseMs?: number; maxMs?: number; factor?: number; random?: () => number });
  readonly attempt: number;
  next(): number;
  reset(): void;
}

export declare function uuidv7(nowMs?: number): string;
