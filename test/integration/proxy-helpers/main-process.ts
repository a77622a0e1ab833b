// The real proxy process (main.ts under tsx), and the vitest set-up for suites of them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startFakeApi } from './fake-api.js';
import { makeTestCerts } from './proxies.js';

export interface MainProcess {
  child: import('node:child_process').ChildProcess;
  /** Everything it wrote so far (stdout and stderr, workers included). */
  out(): string;
  /** Resolves once its output matches `re` (counting from the start), rejects after `timeoutMs`. */
  seen(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * The real proxy process (main.ts under tsx) with `env` on top of the parent's; `preload` modules
 * are loaded before it (and, through execArgv, before each cluster worker): test fixtures that
 * shorten a timeout or slow a listener down, never part of the proxy.
 */
export function spawnMain(env: Record<string, string>, preload: string[] = []): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload.flatMap((p) => ['--import', p]), 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../../..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (c: Buffer) => { out += c; for (const w of [...waiters]) w(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { for (const w of [...waiters]) w(); r(code); }));
  return {
    child,
    out: () => out,
    exited,
    seen: (re, timeoutMs = 20_000) => new Promise<void>((resolve, reject) => {
      const check = () => {
        if (re.test(out)) { waiters.delete(check); clearTimeout(t); resolve(); }
        else if (child.exitCode !== null || child.signalCode !== null) { waiters.delete(check); clearTimeout(t); reject(new Error(`exited (${child.exitCode ?? child.signalCode}) without ${re}:\n${out.slice(-3000)}`)); }
      };
      const t = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${re} within ${timeoutMs} ms in:\n${out.slice(-3000)}`)); }, timeoutMs);
      waiters.add(check);
      check();
    }),
  };
}

/**
 * For suites of real main.ts processes: an app answering "ok", a fake api routing `host` to it, the
 * test certificates (leaf.pem/leaf.key for `host`) in `dir`; each test's processes (push them on
 * `procs`) are killed after it. Registers its own vitest hooks: call at the top of the file.
 */
export function mainProcessSuite(prefix: string, token: string, host: string) {
  const suite = {
    dir: '', api: undefined as unknown as Awaited<ReturnType<typeof startFakeApi>>, procs: [] as MainProcess[],
    /**
     * main.ts on this suite's api, token and certificate (leaf.pem/leaf.key), data dir `<dir>/data`,
     * loopback, no DNS, no access log, info logs — `env` on top (ports, workers…); killed after the test.
     */
    spawn(env: Record<string, string>, preload: string[] = []): MainProcess {
      const p = spawnMain({
        DREAM_DATA_DIR: path.join(suite.dir, 'data'), DREAM_API_URL: suite.api.url, DREAM_INTERNAL_TOKEN: token,
        DREAM_HTTP_HOST: '127.0.0.1', DREAM_DNS_PORT: '0',
        DREAM_TLS_CERT_FILE: path.join(suite.dir, 'leaf.pem'), DREAM_TLS_KEY_FILE: path.join(suite.dir, 'leaf.key'),
        DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info', ...env,
      }, preload);
      suite.procs.push(p);
      return p;
    },
  };
  let app: http.Server;
  beforeAll(async () => {
    suite.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    app = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', () => r()));
    const port = (app.address() as AddressInfo).port;
    suite.api = await startFakeApi(token, [{ app: host.split('.')[0]!, hosts: [host], endpoints: [{ host: '127.0.0.1', port }] }]);
    await makeTestCerts(suite.dir, [host]);
  });
  afterEach(async () => {
    for (const p of suite.procs.splice(0)) { p.child.kill('SIGKILL'); await p.exited; }
  });
  afterAll(async () => {
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
    await suite.api.close();
    fs.rmSync(suite.dir, { recursive: true, force: true });
  });
  return suite;
}
