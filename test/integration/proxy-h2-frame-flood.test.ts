// HTTP/2 PRIORITY and WINDOW_UPDATE floods (frames that ask for nothing and that node reports to
// no one): before h2-frame-flood.ts, a connection writing them as fast as TLS carries them was
// never closed (~0.25 s of CPU a second for each); nginx closes it. Now GOAWAY ENHANCE_YOUR_CALM
// within a few seconds, one warn line; while a client that reads a lot because it is useful (a 20 MB
// upload, 1 000 requests at once after an idle spell) keeps its connection.
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTlsProxy } from './proxy-helpers.js';
import { cheapFlood } from './proxy-helpers/h2-abuse.js';

const TOKEN = 'int_test-token';
let env: Awaited<ReturnType<typeof startTlsProxy>>;
let app: http.Server;
let appPort = 0;
const logLines: { msg: string; code?: string; peer?: string; readBytes?: number }[] = [];

beforeAll(async () => {
  // Answers once the whole body is read: how many bytes it got.
  app = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => { n += d.length; });
    req.on('end', () => res.end(String(n)));
  });
  appPort = await new Promise<number>((r) => app.listen(0, '127.0.0.1', () => r((app.address() as AddressInfo).port)));
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n')) if (l) logLines.push(JSON.parse(l)); cb(); } });
  env = await startTlsProxy(TOKEN, [{ app: 'ff', hosts: ['ff.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] }], ['ff.dream'], { log: pino({ level: 'warn' }, sink) });
});

afterAll(async () => {
  await env?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
});

const target = () => ({ port: env.proxy.httpsPort!, ca: env.ca, servername: 'ff.dream', authority: 'ff.dream' });
const flooded = () => logLines.filter((l) => l.msg.includes('(frame flood)'));

function request(s: http2.ClientHttp2Session, path: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const st = s.request({ ':path': path, ':authority': 'ff.dream', ':method': body ? 'POST' : 'GET' });
    let status = 0;
    let text = '';
    st.on('response', (h) => { status = Number(h[':status']); });
    st.setEncoding('utf8');
    st.on('data', (d: string) => { text += d; });
    st.on('error', reject);
    st.on('end', () => resolve({ status, text }));
    st.end(body);
  });
}

describe('HTTP/2 floods of frames that ask for nothing', () => {
  it.each(['priority', 'window-update', 'window-update-stream'] as const)('%s: GOAWAY ENHANCE_YOUR_CALM and closed within 3 s, one H2_FRAME_FLOOD warn line for all; another client is answered', async (kind) => {
    const before = flooded().length;
    const good = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: 'ff.dream' }).on('error', () => {});
    const answers: Promise<number>[] = [];
    const timer = setInterval(() => answers.push(request(good, '/good').then((r) => r.status, () => -1)), 50);
    // Before: never closed (open at the 5 s cap; 8.7 M PRIORITY / 18 M WINDOW_UPDATE frames in 5 s).
    const r = await cheapFlood({ ...target(), kind, capMs: 5_000 });
    clearInterval(timer);
    expect(r.goaway?.code, 'GOAWAY code').toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(r.closedMs, 'ms until closed (-1: open at the cap)').toBeGreaterThanOrEqual(0);
    expect(r.closedMs).toBeLessThanOrEqual(3_000);
    expect((await Promise.all(answers)).filter((s) => s !== 200)).toEqual([]);
    expect((await request(good, '/good')).status).toBe(200);
    good.close();
    // One line a minute at most (H2_FRAME_FLOOD): the first case's cut writes it, later cuts count in it.
    expect(flooded()).toHaveLength(1);
    expect(flooded()[0]!.code).toBe('H2_FRAME_FLOOD');
    if (before === 0) expect(flooded()[0]!.peer).toBe('127.0.0.1');
  }, 30_000);
});

describe('a client reading a lot because it is useful', () => {
  it('keeps its connection: a 20 MB upload, then idle 2.5 s, then 1 000 requests at once on the same session', async () => {
    const before = flooded().length;
    const s = http2.connect(`https://127.0.0.1:${env.proxy.httpsPort}`, { ca: env.ca, servername: 'ff.dream' }).on('error', () => {});
    let goaway = -1;
    s.on('goaway', (code) => { goaway = code; });
    const upload = await request(s, '/upload', Buffer.alloc(20 * 1024 * 1024, 'x'));
    expect(upload).toEqual({ status: 200, text: String(20 * 1024 * 1024) });
    await new Promise((r) => setTimeout(r, 2_500));
    const burst = await Promise.all(Array.from({ length: 1_000 }, (_, i) => request(s, `/burst/${i}`).then((r) => r.status, () => -1)));
    expect(burst.filter((st) => st !== 200)).toEqual([]);
    // A second upload on the same session still goes through: the session was not cut.
    expect((await request(s, '/again', Buffer.alloc(1024 * 1024, 'y'))).status).toBe(200);
    expect(goaway, 'GOAWAY code the client got (-1: none)').toBe(-1);
    expect(s.destroyed || s.closed).toBe(false);
    s.close();
    expect(flooded().length - before).toBe(0);
  }, 60_000);
});
