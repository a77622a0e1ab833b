// Test fixtures for the proxy suites: a fake api that implements the proxy ↔ api contract
// (docs/architecture.md) faithfully, real upstream HTTP/WebSocket servers, and a tiny client.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { pino } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { loadConfig } from '@dreamnet/core';
import { startProxy } from '../../apps/proxy/src/index.js';

export interface TestRoute { app: string; hosts: string[]; endpoints: { host: string; port: number }[] }
export interface Ack { proxy: string; version: number; at: number }

const listen = (s: http.Server, port = 0) => new Promise<number>((r) => s.listen(port, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const closeServer = (s: http.Server) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); });

/** GET /v1/internal/routes (long-poll) + POST /v1/internal/routes/ack, Bearer token checked. */
export async function startFakeApi(token: string, initial: TestRoute[] = [], opts: { port?: number; version?: number } = {}) {
  let version = opts.version ?? 1;
  let routes = initial;
  const waiters = new Set<() => void>();
  const acks: Ack[] = [];
  const polls: { since: number; wait: number; proxy: string }[] = [];
  const ackWaiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization !== `Bearer ${token}`) { res.writeHead(401).end(); return; }
    if (req.method === 'GET' && url.pathname === '/v1/internal/routes') {
      const since = Number(url.searchParams.get('since') ?? '0');
      const wait = Number(url.searchParams.get('wait') ?? '0');
      polls.push({ since, wait, proxy: url.searchParams.get('proxy') ?? '' });
      const answer = () => { waiters.delete(answer); clearTimeout(timer); if (!res.writableEnded) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version, routes })); };
      let timer: NodeJS.Timeout | undefined;
      if (since !== version) return answer();
      waiters.add(answer);
      timer = setTimeout(answer, wait * 1000);
      res.on('close', () => { waiters.delete(answer); clearTimeout(timer); });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/v1/internal/routes/ack') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const { proxy, version: v } = JSON.parse(body) as { proxy: string; version: number };
        acks.push({ proxy, version: v, at: Date.now() });
        for (const w of [...ackWaiters]) w();
        res.writeHead(204).end();
      });
      return;
    }
    // A stopping proxy's goodbye and certificate status reports (dream domains), taken as the real api does.
    if (req.method === 'POST' && (url.pathname === '/v1/internal/routes/leave' || url.pathname === '/v1/internal/certs/status')) { req.resume(); req.on('end', () => res.writeHead(204).end()); return; }
    res.writeHead(404).end();
  });
  const port = await listen(server, opts.port);
  return {
    url: `http://127.0.0.1:${port}`,
    acks,
    polls,
    get version() { return version; },
    /** Publishes a new table version and wakes held polls; returns the new version. */
    setRoutes(next: TestRoute[]): number {
      routes = next;
      version++;
      for (const w of [...waiters]) w();
      return version;
    },
    waitForAck(v: number, timeoutMs = 15_000): Promise<Ack> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const a = acks.find((x) => x.version >= v);
          if (a) { ackWaiters.delete(check); clearTimeout(t); resolve(a); }
        };
        const t = setTimeout(() => { ackWaiters.delete(check); reject(new Error(`no ack for version ${v}`)); }, timeoutMs);
        ackWaiters.add(check);
        check();
      });
    },
    close: () => closeServer(server),
  };
}

/** A fake api serving `routes` and a plain-HTTP proxy polling it, on 127.0.0.1; close() removes both and the data dir. */
export async function startPlainProxy(token: string, routes: TestRoute[]) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'));
  const api = await startFakeApi(token, routes);
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', pollWaitSeconds: 1 });
  await proxy.ready;
  return { api, proxy, close: async () => { await proxy.close(); await api.close(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

/** An app replica: echoes who it is and what headers it got; /slow?ms=N waits; /ws echoes. */
export async function startUpstream(name: string) {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    received.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const reply = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, url: req.url, method: req.method, headers: req.headers }));
    if (url.pathname === '/slow') { setTimeout(reply, Number(url.searchParams.get('ms') ?? '1000')); return; }
    if (url.pathname === '/big') {
      // N MiB in 64 KiB chunks, honouring backpressure, each chunk filled with its index.
      const chunks = Number(url.searchParams.get('mb') ?? '1') * 16;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let i = 0;
      const more = () => { while (i < chunks) { if (!res.write(Buffer.alloc(65536, i++ % 256))) return void res.once('drain', more); } res.end(); };
      more();
      return;
    }
    if (url.pathname === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, bytes: n })));
      return;
    }
    reply();
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${name}:${String(m)}:${req.headers['x-forwarded-for']}`)));
  const port = await listen(server);
  return { name, port, received, endpoint: { host: '127.0.0.1', port }, close: async () => { for (const c of wss.clients) c.terminate(); wss.close(); await closeServer(server); } };
}

/** A port nothing listens on (connections are refused). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await closeServer(s);
  return port;
}

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

/** One request to the proxy with an explicit Host header (fetch cannot set Host). */
export function request(port: number, host: string, path = '/', opts: { method?: string; headers?: Record<string, string>; agent?: http.Agent; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host, ...opts.headers }, agent: opts.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A CA and one leaf for `names` made with openssl (argv only, no shell), in `dir`. */
export async function makeTestCerts(dir: string, names: string[]): Promise<{ key: Buffer; cert: Buffer; ca: Buffer }> {
  const ssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  await ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=proxy test CA');
  await ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  await ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'ext.cnf');
  const r = (f: string) => fs.readFileSync(path.join(dir, f));
  return { key: r('leaf.key'), cert: r('leaf.pem'), ca: r('ca.pem') };
}

/**
 * startPlainProxy() with an HTTPS listener too: one certificate (from a test CA, `ca`) for every
 * name in `names`, served by SNI. close() removes the proxy, the api and the data dir.
 */
export async function startTlsProxy(token: string, routes: TestRoute[], names: string[], opts: { accessLog?: (e: import('../../apps/proxy/src/access-log.js').AccessEntry) => void } = {}) {
  const tls = await import('node:tls');
  const { NO_CERTIFICATES } = await import('../../apps/proxy/src/tls/types.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-tls-test-'));
  const m = await makeTestCerts(dataDir, names);
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs = { ...NO_CERTIFICATES, secureContext: (name: string) => (names.includes(name) ? sc : undefined), hasCertificate: () => false, ensure: () => {} };
  const api = await startFakeApi(token, routes);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dataDir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: opts.accessLog });
  await proxy.routes.synced;
  return { api, proxy, ca: m.ca, close: async () => { await proxy.close(); await api.close(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

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
    cwd: path.resolve(__dirname, '../..'),
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
  const suite = { dir: '', api: undefined as unknown as Awaited<ReturnType<typeof startFakeApi>>, procs: [] as MainProcess[] };
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

/** Opens a WebSocket, sends 'ping', returns the first message (startUpstream's echo: `<name>:ping:<peer>`) and closes. */
export function wsPing(url: string, opts: WebSocket.ClientOptions): Promise<string> {
  const ws = new WebSocket(url, opts);
  return new Promise<string>((resolve, reject) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (m) => { resolve(String(m)); ws.close(); });
    ws.on('error', reject);
  });
}

/**
 * For a raw upstream written by a test: calls `onRequest(head, body)` for each request its socket
 * reads (the head up to the blank line, a body by Content-Length only). Return false to stop.
 */
export function eachRequest(s: Socket, onRequest: (head: string, body: Buffer) => boolean | void): void {
  let buf = Buffer.alloc(0);
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const cl = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + cl) return;
      const body = buf.subarray(end + 4, end + 4 + cl);
      buf = buf.subarray(end + 4 + cl);
      if (onRequest(head, body) === false) return;
    }
  });
}
