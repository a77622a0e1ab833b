import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { testApi } from '../test-support.js';

type T = Awaited<ReturnType<typeof testApi>>;
const opened: T[] = [];
afterEach(async () => { for (const t of opened.splice(0)) await t.app.close(); });

async function listening(env: Record<string, string> = {}) {
  const t = await testApi(env);
  opened.push(t);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  return { t, base };
}

/** Opens a socket; resolves with the HTTP status of a refusal, or 101 and the socket. */
function connect(url: string, headers: Record<string, string> = {}, opts: WebSocket.ClientOptions = {}): Promise<{ status: number; ws?: WebSocket; body?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { ...opts, headers });
    // Messages can arrive in the same chunk as the 101: keep them until collect() asks.
    const early: unknown[] = [];
    ws.on('message', (d) => early.push(JSON.parse(String(d))));
    (ws as WebSocket & { early: unknown[] }).early = early;
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => resolve({ status: 0 }));
  });
}

function collect(ws: WebSocket, n: number): Promise<Array<Record<string, unknown>>> {
  const got = (ws as WebSocket & { early: Array<Record<string, unknown>> }).early;
  return new Promise((resolve) => {
    const check = () => { if (got.length >= n) resolve(got.slice(0, n)); };
    ws.on('message', check);
    ws.on('close', () => resolve(got));
    check();
  });
}

const until = async (fn: () => boolean | Promise<boolean>) => { for (let i = 0; i < 100 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 50)); };

describe('log routes', () => {
  it('stores runtime and build lines with growing cursors, masks secrets, and serves them as NDJSON', async () => {
    const { t } = await listening();
    t.store.apps.create('one', 'main');
    t.store.config.apply('one', { API_KEY: 'sekret-value-123' }, []);
    const build = t.builder.build.bind(t.builder);
    t.builder.build = async (req) => { req.onLine('using sekret-value-123 here'); return build(req); };
    await t.deployer.deploySource('one', { context: () => Readable.from([Buffer.from('x')]), description: 'test' }, () => {});
    for (let i = 1; i <= 5; i++) t.target.print('one', `line ${i}`);
    const get = async () => (await t.app.inject({ method: 'GET', url: '/v1/apps/one/logs?format=ndjson', headers: t.auth })).body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    await until(async () => (await get()).some((r) => r.line === 'line 5'));
    const recs = await get();
    expect(recs.filter((r) => r.source === 'runtime').map((r) => r.line)).toContain('line 5');
    expect(recs.filter((r) => r.source === 'build').map((r) => r.line)).toContain('       using **** here');
    expect(JSON.stringify(recs)).not.toContain('sekret-value-123');
    const cursors = recs.map((r) => r.cursor);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);
    const runtime = (await t.app.inject({ method: 'GET', url: '/v1/apps/one/logs?source=runtime&tail=2', headers: t.auth })).body.trim().split('\n').map((l) => JSON.parse(l).line);
    expect(runtime).toEqual(['line 4', 'line 5']);
  });

  it('follows over a WebSocket and resumes after the last cursor with every later line exactly once', async () => {
    const { t, base } = await listening();
    t.store.apps.create('one', 'main');
    await t.deployer.deploySource('one', { context: () => Readable.from([Buffer.from('x')]), description: 'test' }, () => {});
    const a = await connect(`ws://${base}/v1/apps/one/logs?follow=1&source=runtime`, t.auth);
    expect(a.status).toBe(101);
    const first = collect(a.ws!, 4);
    for (let i = 1; i <= 3; i++) t.target.print('one', `n${i}`);
    const got = await first;
    a.ws!.close();
    const last = got.at(-1)!.cursor as number;
    for (let i = 4; i <= 6; i++) t.target.print('one', `n${i}`);
    const b = await connect(`ws://${base}/v1/apps/one/logs?follow=1&source=runtime&since=${last}`, t.auth);
    const rest = await collect(b.ws!, 3);
    b.ws!.close();
    expect([...got, ...rest].map((r) => r.line).filter((l) => String(l).startsWith('n'))).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
  });

  it('refuses every socket route before the upgrade: no token, wrong token, another app, read scope for a shell, reused/other-app tickets', async () => {
    const { t, base } = await listening();
    t.store.apps.create('one', 'main');
    t.store.apps.create('two', 'main');
    const other = t.store.tokens.create('two-only', 'deploy', ['two']).token;
    const reader = t.store.tokens.create('reader', 'read', ['one']).token;
    const sockets = t.app.routeList.filter((r) => r.method === 'GET' && /\/(logs|shell|run)$/.test(r.url) && !r.url.includes('deployments'));
    expect(sockets.map((r) => r.url).sort()).toEqual(['/v1/apps/:app/logs', '/v1/apps/:app/run', '/v1/apps/:app/shell']);
    for (const r of sockets) {
      const url = `ws://${base}${r.url.replace(':app', 'one')}?cmd=true`;
      expect((await connect(url)).status, r.url).toBe(401);
      expect((await connect(url, { authorization: 'Bearer wrong' })).status, r.url).toBe(401);
      expect((await connect(url, { authorization: `Bearer ${other}` })).status, r.url).toBe(403);
      if (!r.url.endsWith('/logs')) expect((await connect(url, { authorization: `Bearer ${reader}` })).status, r.url).toBe(403);
    }
    const ticket = async (app: string, token = t.admin) => (await t.app.inject({ method: 'POST', url: `/v1/apps/${app}/tickets`, headers: { authorization: `Bearer ${token}` } })).json().ticket as string;
    const tk = await ticket('one');
    const ok = await connect(`ws://${base}/v1/apps/one/logs?ticket=${tk}`);
    expect(ok.status).toBe(101);
    ok.ws!.close();
    expect((await connect(`ws://${base}/v1/apps/one/logs?ticket=${tk}`)).status).toBe(401);
    const tk2 = await ticket('two');
    expect((await connect(`ws://${base}/v1/apps/one/logs?ticket=${tk2}`)).status).toBe(401);
    const tk3 = await ticket('one', reader);
    expect((await connect(`ws://${base}/v1/apps/one/shell?ticket=${tk3}`)).status).toBe(403);
    const denied = await t.app.inject({ method: 'POST', url: '/v1/apps/two/tickets', headers: { authorization: `Bearer ${reader}` } });
    expect(denied.statusCode).toBe(403);
  });

  it('refuses an expired ticket before the upgrade, and its expiry is what the ticket call said', async () => {
    const { t, base } = await listening({ DREAM_WS_TICKET_TTL_MS: '1000' });
    t.store.apps.create('one', 'main');
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps/one/tickets', headers: t.auth });
    const { ticket, expiresAt } = res.json() as { ticket: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await connect(`ws://${base}/v1/apps/one/logs?ticket=${ticket}`)).status).toBe(401);
  });

  it('delivers a burst of lines to a follower as one message per line, in cursor order, none lost', async () => {
    const { t, base } = await listening();
    t.store.apps.create('one', 'main');
    await t.deployer.deploySource('one', { context: () => Readable.from([Buffer.from('x')]), description: 'test' }, () => {});
    const a = await connect(`ws://${base}/v1/apps/one/logs?follow=1&source=runtime&tail=0`, t.auth);
    const raw: string[] = [];
    a.ws!.on('message', (d) => raw.push(String(d)));
    for (let i = 0; i < 2000; i++) t.target.print('one', `burst ${i}`);
    const burst = () => raw.map((m) => JSON.parse(m) as { cursor: number; line: string }).filter((m) => m.line.startsWith('burst '));
    await until(() => burst().length >= 2000);
    a.ws!.close();
    // Each message is exactly one JSON object (no batching on the wire).
    const msgs = burst();
    expect(msgs.map((m) => m.line)).toEqual(Array.from({ length: 2000 }, (_, i) => `burst ${i}`));
    msgs.forEach((m, i) => { if (i > 0) expect(m.cursor).toBe(msgs[i - 1]!.cursor + 1); });
  });

  it('tells a follower that stopped reading where to resume (lagged, 4008); resuming there gets every line once', async () => {
    const { t, base } = await listening({ DREAM_WS_QUEUE_BYTES: '16384' });
    t.store.apps.create('one', 'main');
    await t.deployer.deploySource('one', { context: () => Readable.from([Buffer.from('x')]), description: 'test' }, () => {});
    const a = await connect(`ws://${base}/v1/apps/one/logs?follow=1&source=runtime&tail=0`, t.auth);
    const sock = (a.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause();
    const pad = 'p'.repeat(4000);
    // ~8 MB: more than loopback buffers hold, so the server's queue must grow past the limit.
    for (let i = 0; i < 2000; i++) t.target.print('one', `lag ${i} ${pad}`);
    await new Promise((r) => setTimeout(r, 1000));
    const code = new Promise<number>((r) => a.ws!.on('close', (c) => r(c)));
    sock.resume();
    const got = await collect(a.ws!, Number.MAX_SAFE_INTEGER);
    expect(await code).toBe(4008);
    const last = got.at(-1) as { type: string; resumeFrom: number };
    expect(last.type).toBe('lagged');
    const lines = got.slice(0, -1).filter((m) => String(m.line).startsWith('lag ')) as Array<{ cursor: number; line: string }>;
    expect(lines.length).toBeLessThan(2000);
    const b = await connect(`ws://${base}/v1/apps/one/logs?follow=1&source=runtime&since=${last.resumeFrom}`, t.auth);
    const rest = (await collect(b.ws!, 2000 - lines.length)).filter((m) => String(m.line).startsWith('lag ')) as typeof lines;
    b.ws!.close();
    expect([...lines, ...rest].map((m) => m.line.split(' ')[1])).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)));
  });

  describe('heartbeat (ping every DREAM_WS_PING_MS, idle close after DREAM_WS_IDLE_MS)', () => {
    /** Resolves with the close code and reason and how long after `since` the socket closed. */
    const closed = (ws: WebSocket, since: number) => new Promise<{ code: number; reason: string; ms: number }>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: String(reason), ms: Date.now() - since }));
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('drops a client that never answers pings within about two ping intervals; one that answers stays', async () => {
      const { t, base } = await listening({ DREAM_WS_PING_MS: '200', DREAM_WS_IDLE_MS: '60000' });
      t.store.apps.create('one', 'main');
      const url = `ws://${base}/v1/apps/one/logs?follow=1`;
      const deaf = await connect(url, t.auth, { autoPong: false });
      const answering = await connect(url, t.auth);
      expect([deaf.status, answering.status]).toEqual([101, 101]);
      const start = Date.now();
      const gone = await closed(deaf.ws!, start);
      // Terminated (no close frame), at the second ping tick after the unanswered first one.
      expect(gone.code).toBe(1006);
      expect(gone.ms).toBeGreaterThanOrEqual(300);
      expect(gone.ms).toBeLessThan(1000);
      await sleep(1200 - (Date.now() - start)); // six ping intervals
      expect(answering.ws!.readyState).toBe(WebSocket.OPEN);
      answering.ws!.close();
    });

    it('closes a following socket with no traffic either way after the idle time with 4000 "idle"; traffic keeps it open', async () => {
      const { t, base } = await listening({ DREAM_WS_PING_MS: '200', DREAM_WS_IDLE_MS: '1000' });
      t.store.apps.create('one', 'main');
      const url = `ws://${base}/v1/apps/one/logs?follow=1`;
      const quiet = await connect(url, t.auth);
      const chatty = await connect(url, t.auth);
      const start = Date.now();
      // Answered pings are not traffic; the chatty client sends a message every 300 ms.
      const talk = setInterval(() => chatty.ws!.send('hi'), 300);
      try {
        const gone = await closed(quiet.ws!, start);
        expect(gone).toMatchObject({ code: 4000, reason: 'idle' });
        expect(gone.ms).toBeGreaterThanOrEqual(900);
        expect(gone.ms).toBeLessThan(2600);
        await sleep(3000 - (Date.now() - start));
        expect(chatty.ws!.readyState).toBe(WebSocket.OPEN);
      } finally { clearInterval(talk); }
      chatty.ws!.close();
    });
  });
});
