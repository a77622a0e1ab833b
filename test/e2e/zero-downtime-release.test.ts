// Release switches under load, end to end: real api, builder, proxy and Docker. A constant-rate
// request loop through the proxy across 10 restarts sees no failure, and a WebSocket whose replica
// is replaced gets a clean close it can reconnect from.
import http from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gitRepo, push, startPlatform, type Platform } from './platform.js';

const APP = 'zdload';
let p: Platform;

beforeAll(async () => {
  p = await startPlatform();
  expect((await p.request('POST', '/v1/apps', { name: APP })).status).toBe(201);
  const r = await push(p, await gitRepo('zd-app'), APP);
  expect(r.code, r.output).toBe(0);
  expect((await p.request('POST', `/v1/apps/${APP}/scale`, { replicas: 2 })).status).toBe(200);
});

afterAll(async () => {
  await p?.request('DELETE', `/v1/apps/${APP}`).catch(() => {});
  await p?.stop();
});

/**
 * `rate` requests per second through the proxy, each on a keep-alive connection, at most `maxInFlight`
 * at once (a request that would exceed it is counted as skipped, not sent), until stop().
 */
function constantLoad(rate: number, maxInFlight = 64) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const stats = { sent: 0, ok: 0, non2xx: 0, errors: 0, skipped: 0, samples: [] as string[] };
  let inFlight = 0;
  const one = () => {
    if (inFlight >= maxInFlight) { stats.skipped++; return; }
    inFlight++; stats.sent++;
    const req = http.request({ host: '127.0.0.1', port: p.proxyPort, path: '/', headers: { host: `${APP}.dream` }, agent, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        inFlight--;
        if (res.statusCode! >= 200 && res.statusCode! < 300) stats.ok++;
        else { stats.non2xx++; if (stats.samples.length < 5) stats.samples.push(`${res.statusCode} ${body.slice(0, 100)}`); }
      });
      res.on('error', (e) => { inFlight--; stats.errors++; if (stats.samples.length < 5) stats.samples.push(`response: ${e.message}`); });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => { inFlight--; stats.errors++; if (stats.samples.length < 5) stats.samples.push(`socket: ${e.message}`); });
    req.end();
  };
  const timer = setInterval(one, 1000 / rate);
  return {
    stats,
    async stop() {
      clearInterval(timer);
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      agent.destroy();
      return stats;
    },
  };
}

function openWs(): Promise<{ ws: WebSocket; echo(msg: string): Promise<string>; closed: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${p.proxyPort}/ws`, { headers: { host: `${APP}.dream` } });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
    const echo = (msg: string) => new Promise<string>((res, rej) => {
      ws.once('message', (m) => res(String(m)));
      ws.once('error', rej);
      ws.send(msg);
    });
    ws.once('open', () => resolve({ ws, echo, closed }));
    ws.once('error', reject);
  });
}

describe('zero-downtime releases', () => {
  it('a constant-rate loop across 10 restarts sees 0 non-2xx and 0 socket errors', async () => {
    const load = constantLoad(100);
    for (let i = 0; i < 10; i++) {
      const r = await p.request('POST', `/v1/apps/${APP}/restart`);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
      expect(r.body.deployment.state).toBe('healthy');
    }
    await new Promise((r) => setTimeout(r, 500));
    const s = await load.stop();
    console.log(`zero-downtime: ${s.sent} requests at 100/s across 10 restarts: ${s.ok} ok, ${s.non2xx} non-2xx, ${s.errors} errors, ${s.skipped} skipped`);
    expect(s.errors, s.samples.join('\n')).toBe(0);
    expect(s.non2xx, s.samples.join('\n')).toBe(0);
    expect(s.ok).toBe(s.sent);
    expect(s.ok).toBeGreaterThan(500);
  });

  it('HTTP/2 over TLS (built-in .dream certificate) across 3 restarts: 0 failures', async () => {
    // The certificate is issued in the background once the route exists.
    let session: http2.ClientHttp2Session | null = null;
    for (let i = 0; i < 100 && !session; i++) {
      session = await new Promise<http2.ClientHttp2Session | null>((resolve) => {
        const s = http2.connect(`https://127.0.0.1:${p.httpsPort}`, { servername: `${APP}.dream`, rejectUnauthorized: false });
        s.once('connect', () => resolve(s));
        s.once('error', () => { s.destroy(); resolve(null); });
      });
      if (!session) await new Promise((r) => setTimeout(r, 200));
    }
    expect(session, 'no TLS handshake for the app name').not.toBeNull();
    const s = session!;
    const stats = { ok: 0, failed: [] as string[] };
    const get = () => new Promise<void>((resolve) => {
      const req = s.request({ ':path': '/', ':authority': `${APP}.dream` });
      let status = 0;
      req.on('response', (h) => { status = Number(h[':status']); });
      req.resume();
      req.on('end', () => { if (status === 200) stats.ok++; else stats.failed.push(`status ${status}`); resolve(); });
      req.on('error', (e) => { stats.failed.push(e.message); resolve(); });
    });
    const pending: Promise<void>[] = [];
    const timer = setInterval(() => pending.push(get()), 20);
    for (let i = 0; i < 3; i++) expect((await p.request('POST', `/v1/apps/${APP}/restart`)).body.deployment.state).toBe('healthy');
    clearInterval(timer);
    await Promise.all(pending);
    s.close();
    console.log(`h2: ${stats.ok} ok, ${stats.failed.length} failed across 3 restarts`);
    expect(stats.failed).toEqual([]);
    expect(stats.ok).toBeGreaterThan(100);
  });

  it('a WebSocket on a replaced replica gets a clean close (1001/1000) and can reconnect', async () => {
    const first = await openWs();
    const before = await first.echo('hi');
    expect(before).toMatch(/^[\w.-]+:hi$/);
    const restart = p.request('POST', `/v1/apps/${APP}/restart`);
    const t0 = Date.now();
    const closed = await first.closed;
    console.log(`WebSocket closed with ${closed.code} after ${Date.now() - t0} ms`);
    expect([1000, 1001]).toContain(closed.code);
    expect((await restart).body.deployment.state).toBe('healthy');
    const again = await openWs();
    const after = await again.echo('back');
    expect(after).toMatch(/^[\w.-]+:back$/);
    // A different replica: the old one is gone.
    expect(after.split(':')[0]).not.toBe(before.split(':')[0]);
    again.ws.close();
    expect((await again.closed).code).toBe(1000);
  });
});
