/**
 * A small event emitter that works the same in browsers and Node. A listener that throws does not
 * stop the others nor the client: its error is rethrown on its own (as a browser reports an
 * EventTarget listener's error).
 */
export class Emitter {
  #listeners = new Map();

  /** Adds `fn` for `type`; returns a function that removes it. */
  on(type, fn) {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    this.#listeners.get(type)?.delete(fn);
  }

  /** Adds `fn` for the next `type` event only. */
  once(type, fn) {
    const off = this.on(type, (e) => {
      off();
      fn(e);
    });
    return off;
  }

  /** @protected */
  emit(type, event) {
    const set = this.#listeners.get(type);
    if (!set) {
      return;
    }
    for (const fn of [...set]) {
      try {
        fn(event);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
