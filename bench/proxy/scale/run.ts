// Scale audit of the proxy: N apps (each `<app>.dream` plus one custom domain, 1-2 endpoints), the
// proxy in its own process (proxy.ts) polling a fake api (the integration tests' fake-api.ts):
//   node_modules/.bin/tsx bench/proxy/scale/run.ts [--n 100,1000,5000] [--src DIR]
// For each N: the first table (time to ack, proxy CPU, event-loop delay max), the built-in CA issuing
// the N .dream certificates (time, CPU, HTTP and TLS-handshake latency of other names meanwhile),
// one-route changes (an endpoint moved; an app added) with requests sent every 2 ms during the apply,
// `.dream` DNS answer time, RSS, and a restart on the same data dir (N stored certificates read
// back). One JSON object per N on stdout; README.md has the figures.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import tls from 'node:tls';
import dnsPacket from 'dns-packet';
import { startFakeApi, type TestRoute } from '../../../test/integration/proxy-helpers/fake-api.js';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const sizes = (arg('--n') ?? '100,1000,5000').split(',').map(Number);
const srcArgs = arg('--src') ? ['--src', arg('--src')!] : [];
const TOKEN = 'int_bench';

const app = http.createServer({ keepAlive: true }, (_req, res) => res.end('ok'));
const app2 = http.createServer({ keepAlive: true }, (_req, res) => res.end('ok'));
await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
await new Promise<void>((r) => app2.listen(0, '127.0.0.1', r));
const p1 = (app.address() as net.AddressInfo).port;
const p2 = (app2.address() as net.AddressInfo).port;

const routeFor = (i: number, port = p1): TestRoute => ({
  app: `app${i}`, hosts: [`app${i}.dream`, `www.app${i}.example.com`],
  endpoints: i % 2 ? [{ host: '127.0.0.1', port }] : [{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: p2 }],
});

const freePort = () => new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now();
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(performance.now() - t)); });
    req.on('error', () => resolve(-1));
  });
}

function handshake(port: number, name: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now();
    const s = tls.connect({ host: '127.0.0.1', port, servername: name, ca, ALPNProtocols: ['http/1.1'] }, () => { resolve(performance.now() - t); s.destroy(); });
    s.on('error', () => resolve(-1));
  });
}

/** Latency of one request every `everyMs` while `until` is pending: max and count. */
async function probe<T>(every: number, send: () => Promise<number>, until: Promise<T>): Promise<{ result: T; max: number; n: number; failed: number }> {
  let done = false;
  let max = 0; let n = 0; let failed = 0;
  const inFlight: Promise<void>[] = [];
  const loop = (async () => {
    while (!done) {
      inFlight.push(send().then((ms) => { if (ms < 0) failed++; else { n++; max = Math.max(max, ms); } }));
      await sleep(every);
    }
  })();
  const result = await until;
  done = true;
  await loop;
  await Promise.all(inFlight);
  return { result, max: Math.round(max), n, failed };
}

function dnsTime(port: number, name: string, count: number): Promise<{ avgMs: number; rcode: string }> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let i = 0; let rcode = '';
    const t = performance.now();
    const send = () => sock.send(dnsPacket.encode({ type: 'query', id: i + 1, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
    sock.on('message', (m) => {
      rcode = (dnsPacket.decode(m) as { rcode?: string }).rcode ?? '';
      if (++i < count) send(); else { sock.close(); resolve({ avgMs: Number(((performance.now() - t) / count).toFixed(3)), rcode }); }
    });
    send();
  });
}

for (const N of sizes) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-scale-'));
  const routes = Array.from({ length: N }, (_, i) => routeFor(i));
  const api = await startFakeApi(TOKEN, routes);
  const dnsPort = await freePort();
  const startChild = async () => {
    const t0 = performance.now();
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), [path.join(here, 'proxy.ts'), api.url, dataDir, ...srcArgs], { cwd: root, env: { ...process.env, BENCH_DNS_PORT: String(dnsPort) }, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout! });
    const waiting: ((v: Record<string, number>) => void)[] = [];
    lines.on('line', (l) => { const w = waiting.shift(); if (w) w(JSON.parse(l)); });
    const next = () => new Promise<Record<string, number>>((r) => waiting.push(r));
    const ask = async (cmd: string) => { const p = next(); child.stdin!.write(`${cmd}\n`); return p; };
    const started = await next() as unknown as { port: number; httpsPort: number; dnsPort: number; pid: number; ca: string };
    const acks = api.acks.length;
    while (api.acks.length === acks) await sleep(5);
    const firstAckMs = Math.round(performance.now() - t0);
    // Start-up (process + first table + the start of N orders, or N stored pairs read): what the proxy did up to here.
    const startup = await ask('report');
    const stop = async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); };
    return { started, ask, firstAckMs, startup, stop };
  };
  const { started, ask, firstAckMs, startup, stop } = await startChild();
  const ca = fs.readFileSync(started.ca);
  const out: Record<string, unknown> = { N, hosts: 2 * N, firstAckMs, startup };

  // Issuing the N .dream certificates: other names' requests and handshakes meanwhile.
  await ask('mark');
  const tIssue = performance.now();
  const issuedAll = (async () => {
    for (;;) { const r = await ask('report'); if (r.issued >= N) return r; await sleep(100); }
  })();
  const during = await probe(20, () => get(started.port, 'www.app1.example.com'), (async () => {
    const hs = await probe(50, () => handshake(started.httpsPort, 'app0.dream', ca), issuedAll);
    return hs;
  })());
  out.issue = { ms: Math.round(performance.now() - tIssue), proxy: during.result.result, httpMaxMs: during.max, httpFailed: during.failed, handshakeMaxMs: during.result.max, handshakeOk: during.result.n, handshakeFailed: during.result.failed };
  await sleep(1000);

  // One route changes: app7 gets another endpoint port (no name changes).
  const change = async (label: string, next: TestRoute[]) => {
    await ask('mark');
    const t = performance.now();
    const v = api.setRoutes(next);
    const r = await probe(2, () => get(started.port, 'app3.dream'), api.waitForAck(v, 600_000));
    const ackMs = Math.round(performance.now() - t);
    await sleep(500); // what the change set off after the ack (orders, cache write)
    out[label] = { ackMs, requestMaxMs: r.max, requests: r.n, failed: r.failed, proxy: await ask('report') };
  };
  const moved = routes.map((r, i) => (i === 7 ? routeFor(7, p2) : r));
  await change('changeEndpoint', moved);
  await change('changeEndpoint2', routes);
  const added = [...routes, routeFor(N)];
  await change('addApp', added);
  for (;;) { const r = await ask('report'); if (r.issued >= N + 1) break; await sleep(50); }

  // .dream DNS: a served name (the last one), an unknown one (NXDOMAIN), 2 000 queries each, one at a time.
  out.dns = { served: await dnsTime(started.dnsPort, `app${N - 1}.dream`, 2000), unknown: await dnsTime(started.dnsPort, 'nope.dream', 2000), custom: await dnsTime(started.dnsPort, `www.app${N - 1}.example.com`, 2000) };
  out.rssMB = (await ask('report')).rssMB;
  await stop();
  // A restart on the same data dir: N stored certificates read back instead of issued.
  const again = await startChild();
  await again.ask('mark');
  const reread = await probe(20, () => get(again.started.port, 'www.app1.example.com'), (async () => {
    for (;;) { const r = await again.ask('report'); if (r.issued >= N + 1) return r; await sleep(100); }
  })());
  out.restart = { firstAckMs: again.firstAckMs, startup: again.startup, after: reread.result, httpMaxMs: reread.max };
  await again.stop();
  console.log(JSON.stringify(out));
  await api.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
app.close(); app2.close();
