// Failed handovers with real main.ts processes: a successor takes the running proxy's sockets, then
// cannot use them nor bind (DREAM_HTTP_HOST it cannot use: EADDRNOTAVAIL) and exits — the old proxy
// never stopped accepting; then a successor asks it the old way to release its ports and vanishes —
// it listens again (handover/listeners.ts restore). Everything that held before must hold after
// each, on one worker and on two: requests over HTTP, HTTPS/1.1 and HTTP/2; a slowloris client is
// cut (the fast path) or gets its 408 (node's headersTimeout, for connections the fast path handed
// to node:http / the HTTP/2 server's HTTP/1.1 fallback); idle keep-alive connections are closed.
// Node's timeouts are shortened by the test preload (fixtures/proxy-preload.ts) so this takes seconds.
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_handover_restore';
const HOST = 'web.dream';
const PRELOAD = path.join(__dirname, 'fixtures', 'proxy-preload.ts');
const HEADERS_TIMEOUT_MS = 1500;
const suite = mainProcessSuite('proxy-ho-restore-', TOKEN, HOST);

const startMain = (env: Record<string, string>): MainProcess =>
  suite.spawn({ DREAM_HTTPS_REDIRECT: 'off', TEST_PROXY_HTTP_TIMEOUTS_MS: String(HEADERS_TIMEOUT_MS), ...env }, [PRELOAD]);

type Conn = net.Socket;
const connect = (port: number, secure: boolean): Promise<Conn> => new Promise((resolve, reject) => {
  const s: Conn = secure
    ? tls.connect({ host: '127.0.0.1', port, servername: HOST, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false }, () => resolve(s))
    : net.connect(port, '127.0.0.1', () => resolve(s));
  s.once('error', reject);
});

/**
 * One probe on a fresh HTTP/1.1 connection. `viaNode`: its first request is one the fast path hands
 * to node (chunked upload), so node's parser and timeouts own the connection from then on. Then
 * `slowloris` trickles a request head that never ends, or `idle` just waits. Resolves with what the
 * client saw after that: the status line it got (or "cut" without one) and when the connection closed.
 */
async function probe(port: number, o: { secure: boolean; viaNode: boolean; then: 'slowloris' | 'idle' }): Promise<{ saw: string; ms: number }> {
  const s = await connect(port, o.secure);
  s.on('error', () => {});
  let buf = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { buf += d; });
  const first = o.viaNode
    ? `POST / HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`
    : `GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
  s.write(first);
  await new Promise<void>((resolve, reject) => {
    const check = () => { if (/\r\n\r\nok$/.test(buf)) { s.off('data', check); resolve(); } };
    s.on('data', check);
    s.once('close', () => reject(new Error(`closed before the first answer: ${JSON.stringify(buf)}`)));
  });
  if (!/^HTTP\/1\.1 200 /.test(buf)) throw new Error(`first answer: ${JSON.stringify(buf.slice(0, 80))}`);
  buf = '';
  const t0 = Date.now();
  let drip: NodeJS.Timeout | undefined;
  if (o.then === 'slowloris') {
    s.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n`);
    drip = setInterval(() => s.write('X-Slow: 1\r\n'), 250);
  }
  const ms = await new Promise<number>((resolve) => {
    const cap = setTimeout(() => resolve(-1), 15_000);
    s.once('close', () => { clearTimeout(cap); resolve(Date.now() - t0); });
  });
  clearInterval(drip);
  s.destroy();
  return { saw: ms < 0 ? 'still open after 15 s' : buf ? buf.split('\r\n')[0]! : 'cut', ms };
}

async function h2Get(port: number): Promise<string> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { servername: HOST, rejectUnauthorized: false });
  try {
    return await new Promise<string>((resolve, reject) => {
      session.once('error', reject);
      const req = session.request({ ':path': '/', ':authority': HOST });
      let b = '';
      let status = 0;
      req.on('response', (h) => { status = Number(h[':status']); });
      req.setEncoding('utf8');
      req.on('data', (c) => (b += c));
      req.on('end', () => resolve(`${status} ${b}`));
      req.on('error', reject);
    });
  } finally { session.close(); }
}

/** Everything checked before and after the failed handover, all at once. */
async function behaviour(httpPort: number, httpsPort: number) {
  const kinds = [
    ['http fast path', httpPort, false, false], ['http via node', httpPort, false, true],
    ['https/1.1 fast path', httpsPort, true, false], ['https/1.1 via node (HTTP/2 server fallback)', httpsPort, true, true],
  ] as const;
  const runs = await Promise.all(kinds.flatMap(([name, port, secure, viaNode]) => (['slowloris', 'idle'] as const).map(async (then) => {
    const r = await probe(port, { secure, viaNode, then });
    return [`${name}, ${then}`, r] as const;
  })));
  return { h2: await h2Get(httpsPort), probes: Object.fromEntries(runs) };
}

function expectTimeoutsHold(b: Awaited<ReturnType<typeof behaviour>>) {
  expect(b.h2).toBe('200 ok');
  for (const [name, r] of Object.entries(b.probes)) {
    if (name.endsWith('idle')) {
      // node's keepAliveTimeout (5 s) on both paths.
      expect(r.saw, name).toBe('cut');
      expect(r.ms, name).toBeGreaterThan(4000);
      expect(r.ms, name).toBeLessThan(8000);
    } else if (name.includes('via node')) {
      expect(r.saw, name).toBe('HTTP/1.1 408 Request Timeout');
      expect(r.ms, name).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(r.ms, name).toBeLessThan(HEADERS_TIMEOUT_MS + 3000);
    } else {
      // The fast path cuts a head older than headersTimeout when its per-connection timer fires
      // (every keep-alive timeout, 5 s).
      expect(r.saw, name).toBe('cut');
      expect(r.ms, name).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(r.ms, name).toBeLessThan(8000);
    }
  }
}

/** A successor from before passing (or without the addon): asks the old way, then goes away without listening. */
async function releaseAndVanish(dataDir: string, httpPort: number): Promise<void> {
  const sock = net.connect(path.join(dataDir, 'proxy', 'handover', `${httpPort}.sock`));
  await new Promise((r) => sock.once('connect', r));
  sock.write('{"v":1,"op":"release"}\n');
  expect(await new Promise<string>((r) => sock.once('data', (d) => r(String(d))))).toBe('{"v":1,"op":"released"}\n');
  sock.destroy();
}

describe('after a failed handover, the listeners', () => {
  it.each([['1'], ['2']])('keep every timeout and both request paths (%s worker(s)): a successor that cannot bind the passed sockets\' address, then one that asked to release', async (workers) => {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const dataDir = path.join(suite.dir, `data-${workers}`);
    const env = { DREAM_DATA_DIR: dataDir, DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_PROXY_WORKERS: workers };
    const old = startMain(env);
    await old.seen(workers === '1' ? /proxy listening/ : /proxy listening[\s\S]*proxy listening/);
    if (workers !== '1') await old.seen(/"msg":"handover: /, 100).catch(() => undefined);
    const before = await behaviour(httpPort, httpsPort);
    expectTimeoutsHold(before);

    // 192.0.2.1 (TEST-NET-1) is no address of this host: the successor will not serve sockets bound
    // to another address than its settings say, and its own bind fails; the old one never stopped.
    const next = startMain({ ...env, DREAM_HTTP_HOST: '192.0.2.1', DREAM_PROXY_WORKERS: '1' });
    await old.seen(/passed the listening sockets to the next proxy/);
    expect(await next.exited).not.toBe(0);
    expect(next.out()).toContain('EADDRNOTAVAIL');
    expect(next.out()).toContain('a passed socket listens on another address; binding instead');
    await old.seen(/the next proxy never said it listens; accepting alone again/);
    await new Promise((r) => setTimeout(r, 300));
    const afterPass = await behaviour(httpPort, httpsPort);
    expectTimeoutsHold(afterPass);

    // Asked to release, the old one closes its listeners; the successor vanishes; it listens again
    // (two workers: on copies of the sockets its primary binds again, handover/primary-sockets.ts).
    await expect.poll(() => fs.existsSync(path.join(dataDir, 'proxy', 'handover', `${httpPort}.sock`))).toBe(true);
    await releaseAndVanish(dataDir, httpPort);
    await old.seen(/the next proxy never said it listens; listening again/);
    await new Promise((r) => setTimeout(r, 300));
    const afterRestore = await behaviour(httpPort, httpsPort);
    console.log(`${workers} worker(s) before:`, JSON.stringify(before), '\nafter a pass:', JSON.stringify(afterPass), '\nafter a restore:', JSON.stringify(afterRestore));
    expectTimeoutsHold(afterRestore);
    expect(old.out()).not.toMatch(/listening again failed/);
  }, 180_000);
});
