// Test support: Parley's real jar (server/target/parley.jar) as a child process on the embedded
// profile, a free port of its own choosing and a temporary data dir; HS256 tokens made with its secret.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const JAR = process.env.PARLEY_JAR ?? path.resolve(here, '../../../target/parley.jar');

const b64url = (s) => Buffer.from(s).toString('base64url');

/** Polls `check` (sync or async) until it returns truthy; fails naming `what` after `timeoutMs`. */
export async function waitFor(what, check, timeoutMs = 60_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) {
        return v;
      }
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ': ' + last.message : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class ParleyServer {
  /** @param {Record<string, string>} [env] extra environment of the server (config keys) */
  constructor(env = {}) {
    this.env = env;
    this.secret = randomBytes(32).toString('hex');
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'parley-js-'));
    this.proc = null;
    this.port = 0;
    this.output = [];
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the jar (again, on the same data dir) and resolves once it is ready; `samePort`: on the
   * port it had before (a browser page keeps its origin), else a free one of its choosing.
   */
  async start({ samePort = false } = {}) {
    if (!existsSync(JAR)) {
      throw new Error(`${JAR} is missing: build it with mvn -B -q package -pl server -DskipTests (from the repository root)`);
    }
    const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
    const proc = spawn(java, ['-Xmx256m', '-jar', JAR], {
      env: {
        ...process.env,
        PARLEY_HTTP_PORT: samePort && this.port ? String(this.port) : '0',
        PARLEY_DATA_DIR: this.dataDir,
        PARLEY_JWT_SECRET: this.secret,
        PARLEY_WARMUP_MS: '0',
        // other builds load this machine: a lagging loop must not shed the test's sends
        PARLEY_OVERLOAD_LOOP_LAG_MS: '0',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const exited = new Promise((r) => proc.once('exit', r));
    this.exited = exited;
    const port = await new Promise((resolve, reject) => {
      let buf = '';
      const onData = (d) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.output.push(line);
          if (this.output.length > 500) this.output.shift();
          const m = /listening on https?:\/\/\S+:(\d+)/.exec(line);
          if (m) resolve(Number(m[1]));
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      exited.then((code) => reject(new Error(`parley exited (${code}) before listening:\n${this.output.slice(-30).join('\n')}`)));
      setTimeout(() => reject(new Error('parley did not listen within 120 s')), 120_000).unref();
    });
    this.port = port;
    await waitFor('/health/ready', async () => (await fetch(this.url + '/health/ready')).status === 200, 120_000, 100);
  }

  /** SIGTERM (the server drains: sockets closed with 1012), and wait for the process to be gone; the data dir stays. */
  async term() {
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  /** SIGKILL, and wait for the process to be gone. */
  async kill9() {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (the server closes sockets with 1012), wait for the exit, and remove the data dir. */
  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** An HS256 token for `user` signed with the server's secret; `ttlS` seconds of life. */
  token(user, ttlS = 3600) {
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const now = Math.floor(Date.now() / 1000);
    const payload = b64url(JSON.stringify({ sub: user, iat: now, exp: now + ttlS }));
    const sig = createHmac('sha256', this.secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  }
}
