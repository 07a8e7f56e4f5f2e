/**
 * Last-seen stores: where a client keeps, per conversation, the newest `server_id` it handed to the
 * app, so that the next connection (or the next start of the app) syncs from there. Any object
 * with `load()` and `save(conv, serverId)` (and optionally `remove(conv)`) will do; `load` may
 * return a promise (e.g. IndexedDB).
 */

/** In memory: lost when the process or page ends (the next start syncs the tracked conversations anew). */
export class MemoryStore {
  #map;

  /** @param {Record<string, string>} [initial] conversation id → last seen server_id */
  constructor(initial = {}) {
    this.#map = new Map(Object.entries(initial));
  }

  load() {
    return Object.fromEntries(this.#map);
  }

  save(conv, serverId) {
    this.#map.set(conv, serverId);
  }

  remove(conv) {
    this.#map.delete(conv);
  }
}

/**
 * In `localStorage` (or any object with its `getItem`/`setItem`/`removeItem`/`key`/`length`), one
 * key per conversation under `prefix`. Use a prefix per user and device
 * (e.g. `parley:alice:laptop:`), as several users may share a browser.
 */
export class LocalStorageStore {
  #prefix;
  #storage;

  /**
   * @param {string} prefix
   * @param {Storage} [storage] default `globalThis.localStorage`
   */
  constructor(prefix, storage = globalThis.localStorage) {
    if (!prefix) {
      throw new TypeError('LocalStorageStore needs a prefix (e.g. "parley:<user>:<device>:")');
    }
    if (!storage) {
      throw new TypeError('no localStorage here: pass a Storage');
    }
    this.#prefix = prefix;
    this.#storage = storage;
  }

  load() {
    const out = {};
    for (let i = 0; i < this.#storage.length; i++) {
      const key = this.#storage.key(i);
      if (key !== null && key.startsWith(this.#prefix)) {
        out[key.slice(this.#prefix.length)] = this.#storage.getItem(key);
      }
    }
    return out;
  }

  save(conv, serverId) {
    this.#storage.setItem(this.#prefix + conv, serverId);
  }

  remove(conv) {
    this.#storage.removeItem(this.#prefix + conv);
  }
}
