// The route table changing under live traffic, with real parts only: the real api (buildApp, its
// route table, deployer and domains routes) driven by the real CLI, whose fake target's replicas are
// real HTTP/WebSocket servers; the real proxy (startProxy + startCertificates: the built-in .dream CA,
// Pebble for custom domains over HTTP-01 on the proxy's own port 80, the .dream DNS); real sockets.
// Each test measures what a client holding connections sees when an app or domain goes away or moves,
// a replica is scaled away, or the api misbehaves.
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import dnsPacket from 'dns-packet';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RecordingTarget, source, testApi } from '../../apps/api/src/test-support.js';
import { run } from '../../apps/cli/src/run.js';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { ManualClock } from '../../apps/proxy/src/tls/renewal.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { startUpstream } from './proxy-helpers.js';
import { freePort, startPebble, type Pebble } from './tls-pebble.js';

const ups = new Map<string, Awaited<ReturnType<typeof startUpstream>>>();
let t: Awaited<ReturnType<typeof testApi>>;
let apiUrl: string;
let pebble: Pebble;
let certs: Certificates;
let proxy: ProxyHandle;
let httpPort: number;
let dnsPort: number;
let ca: string[];
const clock = new ManualClock(Date.now());
const logLines: Array<{ msg: string; [k: string]: unknown }> = [];
const log = pino({ level: 'info' }, { write: (s: string) => { for (const l of s.split('\n').filter(Boolean)) logLines.push(JSON.parse(l)); } });

async function dream(...argv: string[]): Promise<string> {
  let out = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { out += s; }, env: { HOME: path.join(t.dataDir, 'home') }, stdin: process.stdin, now: () => new Date() };
  const code = await run(['--url', apiUrl, '--token', t.admin, ...argv], io);
  if (code !== 0) throw new Error(`dream ${argv.join(' ')} → ${code}: ${out}`);
  return out;
}

async function deploy(app: string): Promise<void> {
  const d = await t.deployer.deploySource(app, { context: () => Readable.from(source()()), description: 'test' });
  expect(d.state).toBe('healthy');
}

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
};

interface Got { status: number; body: string; reused: boolean; code?: string }
/** One HTTP/1.1 request on `agent` (plain or TLS), saying whether it went out on a reused connection. */
function h1(agent: http.Agent, host: string, p = '/', port = httpPort, secure = false): Promise<Got> {
  return new Promise((resolve, reject) => {
    const mod = secure ? https : http;
    const req = mod.request({ host: '127.0.0.1', port, path: p, headers: { host }, agent, ...(secure ? { servername: host.split(':')[0] } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket, code: res.headers['x-dream-error'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

function h2(session: http2.ClientHttp2Session, authority: string, p = '/'): Promise<Got> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':authority': authority, ':path': p });
    let status = 0;
    let code: string | undefined;
    let body = '';
    s.setEncoding('utf8');
    s.on('response', (h) => { status = Number(h[':status']); code = h['x-dream-error'] as string | undefined; });
    s.on('data', (c) => (body += c));
    s.on('end', () => resolve({ status, body, reused: true, code }));
    s.on('error', reject);
    s.end();
  });
}

const who = (g: Got) => (g.status === 200 ? (JSON.parse(g.body) as { name: string }).name : `${g.status} ${g.code ?? ''}`.trim());

/** The rcode name and A records the .dream DNS gives for `name`. */
function dig(name: string): Promise<{ rcode: string; a: string[] }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error('dns timeout')); }, 2000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      const p = dnsPacket.decode(m);
      resolve({ rcode: String((p as { rcode?: string }).rcode), a: (p.answers ?? []).flatMap((x) => (x.type === 'A' ? [String(x.data)] : [])) });
    });
    sock.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), dnsPort, '127.0.0.1');
  });
}

const certState = (host: string) => certs.certs.status().find((s) => s.host === host)?.state;

beforeAll(async () => {
  for (const name of ['alpha-1', 'alpha-2', 'beta-1', 'beta-2', 'gamma-1', 'gamma-2']) ups.set(name, await startUpstream(name));
  const target = new RecordingTarget({ address: (spec, replica) => ups.get(`${spec.app}-${replica}`)!.endpoint });
  t = await testApi({ DREAM_DRAIN_TIMEOUT_MS: '3000' }, { target });
  apiUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  [httpPort, dnsPort] = [await freePort(), await freePort()];
  pebble = await startPebble(path.join(t.dataDir, 'pebble'), { httpPort, dnsPort });
  const config = loadConfig({
    DREAM_DATA_DIR: t.dataDir, DREAM_API_URL: apiUrl, DREAM_ACME_DIRECTORY: pebble.directory, DREAM_DREAM_ACME_DIRECTORY: '',
    DREAM_ACME_CA_BUNDLE: pebble.caFile, DREAM_DNS_PORT: String(dnsPort), DREAM_DNS_HOST: '127.0.0.1', DREAM_EDGE_ADDRESS: '127.0.0.1',
    DREAM_DRAIN_TIMEOUT_MS: '3000', DREAM_HTTP_PORT: String(httpPort),
  });
  certs = await startCertificates({ config, log, token: t.internalToken, proxyId: 'proxy-changes', manager: { clock, tickMs: 3_600_000 } });
  proxy = await startProxy({ config, token: t.internalToken, log, certs: certs.certs, port: httpPort, host: '127.0.0.1', httpsPort: 0, proxyId: 'proxy-changes' });
  await proxy.routes.synced;
  ca = [certs.ca!.rootPem, await pebble.root()];
  for (const app of ['alpha', 'beta', 'gamma']) { await dream('apps', 'create', app); await deploy(app); }
  await dream('domains', 'add', 'alpha', 'www.example.test');
  await dream('domains', 'add', 'alpha', 'move.example.test');
  await dream('domains', 'add', 'beta', 'two.example.test');
  await dream('domains', 'add', 'alpha', 'hop.example.test');
  const names = ['alpha.dream', 'beta.dream', 'gamma.dream', 'www.example.test', 'move.example.test', 'two.example.test', 'hop.example.test'];
  await until('certificates', () => names.every((h) => certState(h) === 'issued'), 60_000);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await certs?.close();
  await pebble?.stop();
  await t?.app.close();
  for (const u of ups.values()) await u.close();
  fs.rmSync(t.dataDir, { recursive: true, force: true });
});

/** A WebSocket through the proxy's plain port with this Host; resolves once open. */
async function wsOpen(host: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; at: number }>; echo: (m: string) => Promise<string> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { headers: { host } });
  const closed = new Promise<{ code: number; at: number }>((r) => ws.once('close', (code) => r({ code, at: Date.now() })));
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const echo = (m: string) => new Promise<string>((resolve, reject) => {
    const t0 = setTimeout(() => reject(new Error('no echo')), 3000);
    ws.once('message', (d) => { clearTimeout(t0); resolve(String(d)); });
    ws.send(m);
  });
  return { ws, closed, echo };
}

/** Requests `host` on fresh connections until it is answered with `status`; ms it took. */
const freshUntil = (host: string, status: number) => until(`${host} → ${status}`, async () => (await h1(new http.Agent(), host)).status === status);

const opened: Array<{ close(): void }> = [];
const agent = () => { const a = new http.Agent({ keepAlive: true, maxSockets: 1 }); opened.push(a.destroy.bind(a) as never); return a; };
const tlsAgent = () => { const a = new https.Agent({ keepAlive: true, maxSockets: 1, ca }); opened.push({ close: () => a.destroy() }); return a; };
const session = (servername: string) => { const s = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca, servername }); opened.push(s); return s; };
afterAll(() => { for (const o of opened) try { o.close(); } catch { /* already closed */ } });

/** Runs `probe` every few ms until stopped; returns what it answered, in order, with repeats collapsed. */
function watch<T>(probe: () => Promise<T>, label: (x: T) => string): { stop: () => Promise<string[]> } {
  const seen: string[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const l = label(await probe());
      if (seen[seen.length - 1] !== l) seen.push(l);
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return { stop: async () => { on = false; await loop; return seen; } };
}

describe('route changes under live traffic', () => {
  it('a domain removed from its app: new and already-open connections (HTTP/1.1, TLS, HTTP/2, coalesced) get the no-app page at once; its WebSockets get 1001; DNS and the redirect stop', async () => {
    const plain = agent();
    const secure = tlsAgent();
    const own = session('www.example.test');
    // An HTTP/2 connection opened for alpha.dream that the client reuses for www.example.test, as a
    // browser does when the certificate covers both (RFC 9113 §9.1.1): routed by :authority alone.
    const coalesced = session('alpha.dream');
    expect((await h1(plain, 'www.example.test', '/x')).status).toBe(308);
    expect(who(await h1(secure, 'www.example.test', '/', proxy.httpsPort!, true))).toMatch(/^alpha-/);
    expect(who(await h2(own, 'www.example.test'))).toMatch(/^alpha-/);
    expect(who(await h2(coalesced, 'www.example.test'))).toMatch(/^alpha-/);
    const wsDomain = await wsOpen('www.example.test');
    const wsApp = await wsOpen('alpha.dream');
    expect(await wsDomain.echo('hi')).toMatch(/^alpha-\d:hi:/);
    expect((await dig('www.example.test')).a).toEqual(['127.0.0.1']);

    await dream('domains', 'remove', 'alpha', 'www.example.test');
    const t0 = Date.now();
    const ms = await freshUntil('www.example.test', 404);
    console.log(`removed domain → 404 NO_ROUTE on a new connection ${ms} ms after the CLI returned`);
    expect(ms).toBeLessThan(1000);

    const after = {
      plain: await h1(plain, 'www.example.test', '/x'),
      tls: await h1(secure, 'www.example.test', '/', proxy.httpsPort!, true),
      h2: await h2(own, 'www.example.test'),
      coalesced: await h2(coalesced, 'www.example.test'),
    };
    console.log('after removal, on the connections opened before:', Object.fromEntries(Object.entries(after).map(([k, g]) => [k, `${who(g)} reused=${g.reused}`])));
    for (const [k, g] of Object.entries(after)) {
      expect(g.reused, k).toBe(true);
      expect([g.status, g.code, g.body], k).toEqual([404, 'NO_ROUTE', 'No app is served at www.example.test.\n']);
    }
    // A WebSocket opened through the removed name is closed cleanly (1001), not left reaching alpha.
    const closed = await Promise.race([wsDomain.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    console.log('WebSocket opened through the removed domain:', closed ? `closed ${closed.code} ${closed.at - t0} ms after the change` : 'still open after 3 s');
    expect(closed?.code).toBe(1001);
    // What was opened for names still served is untouched.
    expect(who(await h2(coalesced, 'alpha.dream'))).toMatch(/^alpha-/);
    expect(await wsApp.echo('still')).toMatch(/^alpha-\d:still:/);

    expect(await dig('www.example.test')).toEqual({ rcode: 'REFUSED', a: [] });
    expect(certState('www.example.test')).toBeUndefined();
    wsApp.ws.close();
  });

  it('a domain moved from alpha to beta (remove, then add): open TLS and HTTP/2 connections go to beta; WebSockets to alpha get 1001; its certificate is kept, not ordered again', async () => {
    const secure = tlsAgent();
    const own = session('move.example.test');
    expect(who(await h1(secure, 'move.example.test', '/', proxy.httpsPort!, true))).toMatch(/^alpha-/);
    expect(who(await h2(own, 'move.example.test'))).toMatch(/^alpha-/);
    const wsDomain = await wsOpen('move.example.test');
    const wsApp = await wsOpen('alpha.dream');
    expect(await wsDomain.echo('a')).toMatch(/^alpha-/);
    const orders = pebble.orders();
    const side = tlsAgent();
    const http1 = watch(() => h1(side, 'move.example.test', '/', proxy.httpsPort!, true), (g) => who(g).replace(/-\d$/, ''));
    const dns = watch(() => dig('move.example.test'), (d) => d.rcode);

    const t0 = Date.now();
    await dream('domains', 'remove', 'alpha', 'move.example.test');
    await dream('domains', 'add', 'beta', 'move.example.test');
    const cliMs = Date.now() - t0;
    await freshUntil('move.example.test', 308);
    await new Promise((r) => setTimeout(r, 100));
    const [answers, rcodes] = [await http1.stop(), await dns.stop()];
    console.log(`move (remove + add, ${cliMs} ms apart): a keep-alive client saw ${answers.join(' → ')}; DNS answered ${rcodes.join(' → ')}`);

    expect(who(await h1(secure, 'move.example.test', '/', proxy.httpsPort!, true))).toMatch(/^beta-/);
    expect(who(await h2(own, 'move.example.test'))).toMatch(/^beta-/);
    const closed = await Promise.race([wsDomain.closed, new Promise<null>((r) => setTimeout(() => r(null), 3000))]);
    console.log('WebSocket opened to alpha through the moved domain:', closed ? `closed ${closed.code}` : 'still open after 3 s');
    expect(closed?.code).toBe(1001);
    expect(await wsApp.echo('b')).toMatch(/^alpha-/);
    const again = await wsOpen('move.example.test');
    expect(await again.echo('c')).toMatch(/^beta-/);
    expect(certState('move.example.test')).toBe('issued');
    expect(pebble.orders()).toBe(orders);
    expect(await dig('move.example.test')).toEqual({ rcode: 'NOERROR', a: ['127.0.0.1'] });
    wsApp.ws.close(); again.ws.close();
  });

  it('a domain moved with `dream domains add beta HOST --move`: no request, DNS answer or new TLS connection in between finds it unserved', async () => {
    const secure = tlsAgent();
    expect(who(await h1(secure, 'hop.example.test', '/', proxy.httpsPort!, true))).toMatch(/^alpha-/);
    const ws = await wsOpen('hop.example.test');
    const orders = pebble.orders();
    const http1 = watch(() => h1(secure, 'hop.example.test', '/', proxy.httpsPort!, true), (g) => who(g).replace(/-\d$/, ''));
    const fresh = watch(() => h1(new https.Agent({ ca }), 'hop.example.test', '/', proxy.httpsPort!, true).catch((e: Error) => ({ status: 0, body: e.message, reused: false })), (g) => (g.status ? who(g).replace(/-\d$/, '') : `TLS: ${g.body}`));
    const dns = watch(() => dig('hop.example.test'), (d) => d.rcode);
    await new Promise((r) => setTimeout(r, 50));
    const out = await dream('domains', 'add', 'beta', 'hop.example.test', '--move');
    await until('beta', async () => who(await h1(new https.Agent({ ca }), 'hop.example.test', '/', proxy.httpsPort!, true)).startsWith('beta-'));
    await new Promise((r) => setTimeout(r, 50));
    const seen = { keepAlive: await http1.stop(), newConnections: await fresh.stop(), dns: await dns.stop() };
    console.log(`dream domains add --move: "${out.trim().split('\n')[0]}"; seen:`, seen);
    expect(seen).toEqual({ keepAlive: ['alpha', 'beta'], newConnections: ['alpha', 'beta'], dns: ['NOERROR'] });
    expect((await ws.closed).code).toBe(1001);
    expect(pebble.orders()).toBe(orders);
    expect(await dream('domains', 'alpha')).not.toContain('hop.example.test');
    expect(await dream('domains', 'beta')).toMatch(/hop\.example\.test\s+custom\s+issued/);
  });

  it('an app deleted: its .dream name is NXDOMAIN, open connections get the no-app page, its WebSockets 1001, the redirect stops', async () => {
    const plain = agent();
    const secure = tlsAgent();
    const own = session('gamma.dream');
    expect((await h1(plain, 'gamma.dream')).status).toBe(308);
    expect(who(await h1(secure, 'gamma.dream', '/', proxy.httpsPort!, true))).toMatch(/^gamma-/);
    expect(who(await h2(own, 'gamma.dream'))).toMatch(/^gamma-/);
    const ws = await wsOpen('gamma.dream');
    expect((await dig('gamma.dream')).rcode).toBe('NOERROR');

    const t0 = Date.now();
    await dream('apps', 'delete', 'gamma', '--confirm', 'gamma');
    const deleteMs = Date.now() - t0;
    const closed = await Promise.race([ws.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    console.log(`apps delete took ${deleteMs} ms; its WebSocket: ${closed ? `closed ${closed.code} after ${closed.at - t0} ms` : 'still open after 5 s'}`);
    expect(closed?.code).toBe(1001);
    for (const g of [await h1(plain, 'gamma.dream'), await h1(secure, 'gamma.dream', '/', proxy.httpsPort!, true), await h2(own, 'gamma.dream')]) {
      expect([g.status, g.code, g.reused]).toEqual([404, 'NO_ROUTE', true]);
    }
    expect(await dig('gamma.dream')).toEqual({ rcode: 'NXDOMAIN', a: [] });
  });

  it('a replica scaled away under keep-alive load: no failed request, none to it after the ack', async () => {
    await dream('scale', 'beta', '2');
    const secure = new https.Agent({ keepAlive: true, maxSockets: 4, ca });
    const own = session('beta.dream');
    const seen = new Map<string, number>();
    let failures = 0;
    let acked = false;
    let afterAck = 0;
    let on = true;
    const load = Array.from({ length: 5 }, (_, i) => (async () => {
      while (on) {
        const g = await (i === 4 ? h2(own, 'beta.dream') : h1(secure, 'beta.dream', '/', proxy.httpsPort!, true)).catch((e: Error) => ({ status: 0, body: e.message, reused: false }));
        const w = who(g);
        if (g.status !== 200) failures++;
        seen.set(w, (seen.get(w) ?? 0) + 1);
        if (acked && w === 'beta-2') afterAck++;
      }
    })());
    // Both replicas answer before the scale-down (on a loaded box 300 ms may not see one).
    await expect.poll(() => seen.get('beta-2') ?? 0, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
    await dream('scale', 'beta', '1'); // returns once the switch is acked by every proxy
    acked = true;
    await new Promise((r) => setTimeout(r, 300));
    on = false;
    await Promise.all(load);
    secure.destroy();
    console.log('scale 2 → 1 under load:', Object.fromEntries(seen), `failures ${failures}, beta-2 after the ack ${afterAck}`);
    expect(failures).toBe(0);
    expect(afterAck).toBe(0);
  });

  it('renewal: with every certificate due, only names still served are ordered (none for the removed domain)', async () => {
    const orders = pebble.orders();
    const logFrom = pebble.log().length;
    const linesFrom = logLines.length;
    // A day before the custom domains' certificates expire: long past their renewal point.
    const notAfter = Math.min(...certs.certs.status().filter((c) => c.host.endsWith('.example.test')).map((c) => Date.parse(c.notAfter!)));
    clock.set(notAfter - 86_400_000);
    await certs.certs.tick();
    // Pebble's log (which both counts come from) arrives through a pipe: on a loaded machine its
    // last lines can come after the orders were answered. A name may be ordered without being
    // validated again: Pebble reuses a still-valid authorization about 1 % of the time even with
    // PEBBLE_AUTHZREUSE=0 (its check is `rand.Intn(100) > percent`), as Let's Encrypt does for 30
    // days; that made this test fail now and then (3 names: ~3 %) when it asked for three validations.
    const validated = () => [...new Set([...pebble.log().slice(logFrom).matchAll(/Identifier\{Type:"dns", Value:"([^"]+)"\}/g)].map((m) => m[1]))].sort();
    const said = (msg: string) => logLines.slice(linesFrom).filter((l) => l.msg === msg && String(l.host).endsWith('.example.test')).map((l) => String(l.host)).sort();
    const served = ['hop.example.test', 'move.example.test', 'two.example.test'];
    try {
      await expect.poll(() => pebble.orders(), { timeout: 10_000 }).toBe(orders + 3);
      await expect.poll(() => said('certificate issued'), { timeout: 10_000 }).toEqual(served);
      expect(said('ordering certificate')).toEqual(served);
      expect(served).toEqual(expect.arrayContaining(validated()));
    } catch (e) {
      // Say what the manager made of each name and what Pebble logged, so a failure explains itself.
      const mine = (l: object) => JSON.stringify(l).includes('.example.test');
      const pebbleSaid = pebble.log().slice(logFrom).split('\n').filter((l) => /example\.test|Added order|authz/.test(l)).map((l) => l.slice(0, 200));
      console.log('renewal tick failed:', JSON.stringify({ orders: [orders, pebble.orders()], status: certs.certs.status().filter(mine), log: logLines.slice(linesFrom).filter(mine), pebble: pebbleSaid }, null, 1));
      throw e;
    }
    console.log(`renewal tick: Pebble orders ${orders} → ${pebble.orders()}, names validated again: ${validated().join(', ')}`);
  });
});

// A second proxy, plain HTTP only, reaching the same api through a front that can be made to fail
// the way an api does: 500s, garbage, a refused connection, a held poll that never ends, or a table
// with one broken entry. What it logs is collected per test.
describe('the api misbehaving, the cache damaged', () => {
  type Mode = 'pass' | '500' | 'garbage' | 'refuse' | 'hang' | 'bad-entry';
  let mode: Mode = 'pass';
  let front: http.Server;
  let frontUrl: string;
  const hung = new Set<http.ServerResponse>();
  let goodPolls = 0;
  /** What the proxy started last logged (each proxy logs to its own list). */
  let lines: Array<{ msg: string; level: number; [k: string]: unknown }> = [];
  const started: ProxyHandle[] = [];

  async function startSecond(dataDir: string): Promise<ProxyHandle> {
    for (const s of started.splice(0)) await s.close();
    fs.mkdirSync(dataDir, { recursive: true });
    const own: typeof lines = lines = [];
    const logTo = pino({ level: 'info' }, { write: (s: string) => { for (const l of s.split('\n').filter(Boolean)) own.push(JSON.parse(l)); } });
    const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: frontUrl, DREAM_DRAIN_TIMEOUT_MS: '2000' });
    // A short wait for the first table: the damaged-cache case asks while the api refuses.
    const p = await startProxy({ config, token: t.internalToken, log: logTo, port: 0, host: '127.0.0.1', pollWaitSeconds: 1, firstTableWaitMs: 500 });
    started.push(p);
    return p;
  }
  const get = (p: ProxyHandle, host: string) => h1(new http.Agent(), host, '/', p.port);
  const pollWarnings = () => lines.filter((l) => l.level >= 40 && /route|cache/i.test(l.msg));

  beforeAll(async () => {
    front = http.createServer((req, res) => {
      if (mode === 'refuse') { req.socket.destroy(); return; }
      const isPoll = req.url!.startsWith('/v1/internal/routes?');
      if (mode === '500') { res.writeHead(500, { 'content-type': 'application/json' }).end('{"statusCode":500,"code":"INTERNAL"}'); return; }
      if (mode === 'hang' && isPoll) { hung.add(res); return; }
      if (mode === 'garbage' && isPoll) { res.writeHead(200, { 'content-type': 'application/json' }).end('{"version": 17, "routes": [{"app": "alp'); return; }
      const up = http.request(`${apiUrl}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
        if (!isPoll || r.statusCode !== 200) { res.writeHead(r.statusCode!, r.headers); r.pipe(res); return; }
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c) => (body += c));
        r.on('end', () => {
          const snap = JSON.parse(body) as { version: number; routes: Array<{ app: string; endpoints: unknown }> };
          if (mode !== 'bad-entry') goodPolls++;
          else for (const e of snap.routes) if (e.app === 'beta') e.endpoints = [{ host: '127.0.0.1', port: 'eighty' }];
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snap));
        });
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    frontUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const s of started) await s.close();
    for (const r of hung) r.destroy();
    await new Promise((r) => (front ? front.close(r) : r(undefined)));
  });

  it('the api failing for 4 s (500s, garbage, refused connections, a held poll cut): the last good table keeps serving; one warning per outage, one line when it recovers', async () => {
    const p = await startSecond(path.join(t.dataDir, 'second'));
    await p.routes.synced;
    expect(who(await get(p, 'alpha.dream'))).toMatch(/^alpha-/);
    const counts: Record<string, { warnings: number; recovered: number; served: string }> = {};
    for (const m of ['500', 'garbage', 'refuse', 'hang'] as const) {
      lines.splice(0);
      mode = m;
      const answers = new Set<string>();
      const t0 = Date.now();
      while (Date.now() - t0 < 4000) {
        answers.add(who(await get(p, 'alpha.dream')).replace(/-\d$/, ''));
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const r of hung) r.destroy();
      hung.clear();
      mode = 'pass';
      const polls = goodPolls;
      await until('a good poll', () => goodPolls > polls, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      counts[m] = { warnings: pollWarnings().length, recovered: lines.filter((l) => /recover/i.test(l.msg)).length, served: [...answers].join(',') };
    }
    console.log('4 s of each failure:', counts);
    for (const [m, c] of Object.entries(counts)) expect(c, m).toEqual({ warnings: 1, recovered: 1, served: 'alpha' });
  }, 60_000);

  it('a table with one broken entry: the other apps follow the api, the broken one keeps its last good entry, one warning', async () => {
    const p = await startSecond(path.join(t.dataDir, 'third'));
    await p.routes.synced;
    expect(who(await get(p, 'beta.dream'))).toMatch(/^beta-/);
    lines.splice(0);
    mode = 'bad-entry';
    await dream('scale', 'alpha', '2'); // a real change, which the proxy acks
    const alphas = new Set<string>();
    for (let i = 0; i < 6; i++) alphas.add(who(await get(p, 'alpha.dream')));
    const beta = who(await get(p, 'beta.dream'));
    await dream('scale', 'alpha', '1');
    const warned = pollWarnings().map((l) => l.msg);
    console.log(`broken beta entry: alpha answered by ${[...alphas].sort().join(', ')}; beta.dream → ${beta}; warnings: ${JSON.stringify(warned)}`);
    mode = 'pass';
    expect([...alphas].sort()).toEqual(['alpha-1', 'alpha-2']);
    expect(beta).toMatch(/^beta-/);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/beta/);
  }, 60_000);

  it('a damaged cache, or one a newer proxy wrote, at start: nothing from it is served, one line says why, the api\'s table replaces it', async () => {
    const wrongPort = ups.get('gamma-1')!.port; // a real server, but not alpha's
    const cases = {
      truncated: '{"version": 12, "routes": [{"app": "alpha", "hosts": ["alpha.dream"], "endpoi',
      'not a table': '["alpha.dream"]\n',
      'newer format': JSON.stringify({ format: 2, version: 12, routes: [{ app: 'alpha', hosts: ['alpha.dream'], endpoints: [{ host: '127.0.0.1', port: wrongPort }], weights: [1] }] }),
      'broken entry': JSON.stringify({ version: 12, routes: [{ app: 'alpha', hosts: ['alpha.dream'], endpoints: [{ host: '127.0.0.1', port: wrongPort }] }, { app: 'beta', hosts: 'beta.dream', endpoints: [] }] }),
    };
    const seen: Record<string, unknown> = {};
    for (const [name, text] of Object.entries(cases)) {
      const dir = path.join(t.dataDir, `cache-${name.replace(/ /g, '-')}`);
      fs.mkdirSync(path.join(dir, 'proxy'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'proxy', 'routes.json'), text);
      lines.splice(0);
      mode = 'refuse';
      const p = await startSecond(dir);
      const before = who(await get(p, 'alpha.dream'));
      const said = lines.filter((l) => /cache/i.test(l.msg)).map((l) => `${l.level >= 40 ? 'warn' : 'info'}: ${l.msg}`);
      mode = 'pass';
      await p.routes.synced;
      const after = who(await get(p, 'alpha.dream'));
      const rewritten = await until('cache rewritten', () => { try { return JSON.parse(fs.readFileSync(path.join(dir, 'proxy', 'routes.json'), 'utf8')).routes.some((r: { app: string }) => r.app === 'alpha'); } catch { return false; } });
      seen[name] = { before, said, after, rewritten: rewritten >= 0 };
    }
    console.log('damaged caches:', seen);
    for (const [name, r] of Object.entries(seen) as Array<[string, { before: string; said: string[]; after: string }]>) {
      // Never had a table: 503 after the wait for one (routes/first-table.ts), not a 404.
      expect(r.before, name).toBe('503 ROUTES_NOT_LOADED');
      expect(r.said, name).toHaveLength(1);
      expect(r.said[0], name).toMatch(/^warn: .*routes\.json/);
      expect(r.after, name).toMatch(/^alpha-/);
    }
  }, 60_000);
});
