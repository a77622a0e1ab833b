// HTTP/2 across proxy restarts, with real main.ts processes: one client keeps a session and sends
// 200 requests a second (a tenth of them take 400 ms at the app) while the proxy reloads three
// times (SIGHUP, DREAM_PROXY_WORKERS=2) or hands its ports over to a new process twice. A client
// that does what RFC 9113 allows around GOAWAY (h2-spec-client.ts: a new connection after GOAWAY,
// a retry only of what the server never processed) sees no failed request, and no request the
// proxy had accepted fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { h2Load } from './h2-spec-client.js';
import { mainProcessSuite, startUpstream, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_h2_reload';
const HOST = 'web.dream';
const suite = mainProcessSuite('proxy-h2-reload-', TOKEN, HOST);
let app: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  // An app with slow answers too (/slow?ms=N), so that requests are in flight at every restart.
  app = await startUpstream('A');
  suite.api.setRoutes([{ app: 'web', hosts: [HOST], endpoints: [app.endpoint] }]);
});
afterAll(async () => { await app?.close(); });

const count = (out: string, s: string) => out.split(s).length - 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** main.ts with `workers` on the given ports and data dir (a second one on the same: a handover). */
const startMain = (workers: number, ports: { http: number; https: number }): MainProcess =>
  suite.spawn({ DREAM_HTTP_PORT: String(ports.http), DREAM_HTTPS_PORT: String(ports.https), DREAM_PROXY_WORKERS: String(workers) });

/** 200 req/s over one HTTP/2 client (reconnecting after GOAWAY), a tenth of them slow. */
const load = (httpsPort: number) => h2Load({
  url: `https://127.0.0.1:${httpsPort}`, authority: HOST, rate: 200, path: (n) => (n % 10 === 0 ? `/slow?ms=400&n=${n}` : `/?n=${n}`),
});

function expectNoFailures(r: Awaited<ReturnType<ReturnType<typeof load>['stop']>>, restarts: number) {
  expect(r.acceptedFailed).toEqual([]);
  // What was retried had never reached the app: every request got there exactly once.
  const seen = new Map<string, number>();
  for (const u of app.received) { const n = /[?&]n=(\d+)/.exec(u)?.[1]; if (n) seen.set(n, (seen.get(n) ?? 0) + 1); }
  expect([...seen].filter(([, k]) => k > 1)).toEqual([]);
  expect(seen.size).toBe(r.total);
  expect(r.failed).toEqual({});
  expect(r.ok).toBe(r.total);
  expect(r.total).toBeGreaterThan(1000);
  // The session did move: every restart retired the process it was on.
  expect(r.goaways).toBeGreaterThanOrEqual(restarts);
}

describe('HTTP/2 across proxy restarts', () => {
  it('3 SIGHUP reloads (2 workers) under 200 req/s: 0 failed requests, no accepted stream lost', async () => {
    const ports = { http: await freePort(), https: await freePort() };
    const p = startMain(2, ports);
    // Both workers listen and route (the first table comes from the api, after listening).
    await expect.poll(() => count(p.out(), '"msg":"routes applied"'), { timeout: 20_000 }).toBe(2);
    app.received.length = 0;
    const l = load(ports.https);
    await sleep(1000);
    for (let i = 1; i <= 3; i++) {
      p.child.kill('SIGHUP');
      await p.seen(new RegExp(`(proxy workers reloaded[\\s\\S]*){${i}}`), 30_000);
      await sleep(1000);
    }
    const r = await l.stop();
    console.log('HTTP/2 across 3 reloads:', JSON.stringify(r));
    expectNoFailures(r, 3);
  }, 120_000);

  it('2 handovers to a new process (1 worker) under 200 req/s: 0 failed requests, no accepted stream lost', async () => {
    const ports = { http: await freePort(), https: await freePort() };
    const first = startMain(1, ports);
    // Routes may be applied before the HTTPS listener listens: a first session would be refused.
    await first.seen(/proxy listening/);
    await first.seen(/routes applied/);
    app.received.length = 0;
    const l = load(ports.https);
    await sleep(1000);
    for (let i = 0; i < 2; i++) {
      const next = startMain(1, ports);
      await next.seen(/handover: took over the listeners/, 30_000);
      await next.seen(/routes applied/);
      await sleep(1500);
    }
    // The new processes' start-ups made up most of this load's length; on a fast box they are short.
    await sleep(1000);
    const r = await l.stop();
    console.log('HTTP/2 across 2 handovers:', JSON.stringify(r));
    expectNoFailures(r, 2);
  }, 120_000);
});
