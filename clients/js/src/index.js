export { ParleyClient, RETRYABLE } from './client.js';
export { ParleyApi, devToken } from './rest.js';
export { MemoryStore, LocalStorageStore } from './stores.js';
export { ParleyError } from './errors.js';
export { Backoff } from './backoff.js';
export { Emitter } from './emitter.js';
export { uuidv7 } from './uuid.js';
export const VERSION = '0.1.0';
