// HTTP/2 abuse beyond the classic rapid reset and CONTINUATION floods (proxy-h2-rapid-reset.test.ts),
// with frame-level attackers (proxy-helpers/h2-abuse.ts), measured by what reaches the app:
// - a rapid reset whose resets come in the same read as the requests: node closes such a stream
//   only after its 'request' ran, and the proxy asked the app at once, so each cost the app a
//   connection (undici connects before it looks at the abort: ~253 for a flood the app saw ~7
//   requests of). forward.ts now asks a turn later;
// - MadeYouReset (CVE-2025-8671), the server made to reset each request: node 20 (nghttp2 1.61)
//   already ends such a connection at the first frame or after its invalid-frame limit, before
//   the app is asked: pinned;
// - streams reset once their response started: as many at once as the concurrent-stream limit
//   allows (nginx the same): pinned;
// - cheap-frame floods (PING, SETTINGS, PRIORITY, empty DATA, WINDOW_UPDATE): the app sees none of
//   them (PRIORITY and WINDOW_UPDATE are cut by h2-frame-flood.ts: proxy-h2-frame-flood.test.ts);
// - a connection nghttp2 ended with GOAWAY for a protocol error (DATA on an ended stream), which
//   node neither reads nor closes: held for good; now a PING once it is quiet, closed unanswered.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsProxy } from './proxy-helpers.js';
import { cheapFlood, madeYouReset, resetAfterResponse } from './proxy-helpers/h2-abuse.js';
import { rapidReset } from './proxy-helpers/h2-floods.js';

const TOKEN = 'int_test-token';
let env: Awaited<ReturnType<typeof startTlsProxy>>;
let app: http.Server;
let attackRequests = 0;
let attackOpen = 0;
let attackMostOpen = 0;
let appConnections = 0;
let appPort = 0;

beforeAll(async () => {
  // Each request is held 100 ms, as an app doing some work would.
  app = http.createServer((req, res) => {
    const attack = !req.url!.startsWith('/good');
    if (attack) { attackRequests++; attackMostOpen = Math.max(attackMostOpen, ++attackOpen); }
    let done = false;
    const fin = () => { if (!done && attack) attackOpen--; done = true; };
    res.on('close', fin);
    req.resume();
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 100);
    setTimeout(() => { if (!res.destroyed) res.end('ok'); fin(); }, ms);
  });
  app.on('connection', () => { appConnections++; });
  appPort = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  env = await startTlsProxy(TOKEN, routes(), ['rr.dream']);
});

afterAll(async () => {
  await env?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

const routes = () => [{ app: 'rr', hosts: ['rr.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] }];
const target = () => ({ port: env.proxy.httpsPort!, ca: env.ca, servername: 'rr.dream', authority: 'rr.dream' });

function get(s: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const st = s.request({ ':path': path, ':authority': 'rr.dream' });
    let status = 0;
    st.on('response', (h) => { status = Number(h[':status']); });
    st.on('error', reject);
    st.on('end', () => resolve(status));
    st.resume();
    st.end();
  });
}

/** Runs `attack` while another client asks every 50 ms; what reached the app from the attacker, and that client's answers. */
async function during<T>(attack: () => Promise<T>): Promise<{ result: T; requests: number; connections: number; mostOpen: number; good: number[] }> {
  const good = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: 'rr.dream' }).on('error', () => {});
  expect(await get(good, '/good')).toBe(200);
  // Let the warm-up's connections settle: what the attack costs the app is counted from here.
  await new Promise((r) => setTimeout(r, 200));
  const [requests0, connections0] = [attackRequests, appConnections];
  attackMostOpen = attackOpen;
  const answers: Promise<number>[] = [];
  const timer = setInterval(() => answers.push(get(good, '/good').catch(() => -1)), 50);
  const result = await attack();
  clearInterval(timer);
  const statuses = await Promise.all(answers);
  statuses.push(await get(good, '/good'));
  good.close();
  // Requests the proxy forwarded just before the connection closed still arrive: wait for them.
  await new Promise((r) => setTimeout(r, 300));
  return { result, requests: attackRequests - requests0, connections: appConnections - connections0, mostOpen: attackMostOpen, good: statuses };
}

describe('HTTP/2 rapid reset, each reset in the same read as its request', () => {
  it('costs the app no connection per reset stream: a few at most, and the attacker still gets GOAWAY ENHANCE_YOUR_CALM', async () => {
    const r = await during(() => rapidReset({ ...target(), path: '/attack', capMs: 3_000 }));
    expect(r.result.goaway?.code).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // Before: 253-262 app connections (undici connected for each cancelled request), ~7 requests.
    // The good client's own requests may open a few; nginx 1.22: ≤ 5.
    expect(r.connections).toBeLessThanOrEqual(16);
    expect(r.requests).toBeLessThanOrEqual(16);
    expect(r.good.filter((s) => s !== 200)).toEqual([]);
  }, 30_000);
});

describe('MadeYouReset (CVE-2025-8671): frames the server must answer with RST_STREAM, after each request', () => {
  it.each([
    // WINDOW_UPDATE 0 on the request's stream: node ends the session at the first (GOAWAY INTERNAL_ERROR).
    ['window-update', http2.constants.NGHTTP2_INTERNAL_ERROR],
    // DATA after END_STREAM: nghttp2 treats it as a connection error at the first (GOAWAY STREAM_CLOSED).
    ['data-closed', http2.constants.NGHTTP2_STREAM_CLOSED],
  ] as const)('%s: GOAWAY at the first one (code %i), the app gets at most the first request', async (kind, code) => {
    const r = await during(() => madeYouReset({ ...target(), path: '/attack', kind, capMs: 1_000 }));
    expect(r.result.goaway).toMatchObject({ code, lastStreamId: 1 });
    expect(r.requests).toBeLessThanOrEqual(1);
    expect(r.good.filter((s) => s !== 200)).toEqual([]);
  }, 30_000);

  it('content-length: nghttp2 resets each stream before node sees it; node closes the connection at its invalid-frame limit (1 000)', async () => {
    const r = await during(() => madeYouReset({ ...target(), path: '/attack', kind: 'content-length', capMs: 3_000 }));
    expect(r.result.closedMs).toBeGreaterThanOrEqual(0);
    expect(r.result.closedMs).toBeLessThanOrEqual(1_000);
    expect(r.requests).toBe(0);
    expect(r.good.filter((s) => s !== 200)).toEqual([]);
  }, 30_000);
});

describe('HTTP/2 streams reset once their response started', () => {
  it('are in the app at most as many at once as the concurrent-stream limit (128), as with nginx', async () => {
    const r = await during(() => resetAfterResponse({ ...target(), path: '/attack', concurrent: 128, capMs: 1_500 }));
    expect(r.result.sent).toBeGreaterThan(500); // measured: ~1 300/s, the app's pace (100 ms a request)
    expect(r.mostOpen).toBeLessThanOrEqual(128);
    expect(r.good.filter((s) => s !== 200)).toEqual([]);
  }, 30_000);
});

describe('HTTP/2 cheap-frame floods', () => {
  it.each(['ping', 'settings', 'priority', 'empty-data', 'window-update'] as const)('%s: the app sees nothing of it, another client is answered', async (kind) => {
    const r = await during(() => cheapFlood({ ...target(), kind, capMs: 1_500 }));
    expect(r.requests).toBeLessThanOrEqual(1); // 'empty-data' opens one stream
    expect(r.good.filter((s) => s !== 200)).toEqual([]);
  }, 30_000);
});

describe('a connection nghttp2 ended with GOAWAY for a protocol error, which node then neither reads nor closes', () => {
  it('gets a PING once quiet for the idle timeout and is closed unanswered; a quiet stream of a live client stays', async () => {
    const IDLE_MS = 500;
    const quiet = await startTlsProxy(TOKEN, routes(), ['rr.dream'], { h2IdleMs: IDLE_MS });
    try {
      const r = await madeYouReset({ port: quiet.proxy.httpsPort!, ca: quiet.ca, servername: 'rr.dream', authority: 'rr.dream', path: '/attack', kind: 'data-closed', capMs: 4_000 });
      // Before: GOAWAY STREAM_CLOSED at the first DATA, then still open at the 4 s cap (and for good:
      // its one stream never ends, so the idle timeout never comes).
      expect(r.goaway?.code).toBe(http2.constants.NGHTTP2_STREAM_CLOSED);
      expect(r.closedMs, 'ms until closed (-1: open at the cap)').toBeGreaterThanOrEqual(2 * IDLE_MS - 100);
      expect(r.closedMs).toBeLessThanOrEqual(2 * IDLE_MS + 1_500);
      // A live client answers the PING: a request the app holds three idle timeouts is answered.
      const good = http2.connect(`https://127.0.0.1:${quiet.proxy.httpsPort}`, { ca: quiet.ca, servername: 'rr.dream' }).on('error', () => {});
      expect(await get(good, `/good?ms=${3 * IDLE_MS}`)).toBe(200);
      good.close();
    } finally {
      await quiet.close();
    }
  }, 30_000);
});
