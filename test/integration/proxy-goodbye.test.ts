// A proxy that stops serving says goodbye (POST /v1/internal/routes/leave), so a deploy right after
// does not wait the drain timeout + 5 s for an ack that will never come. Real parts: the api as its
// process wires it (startApi), real proxies (startProxy, and main.ts processes with cluster workers
// and a handover), replicas that are real servers, real HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy } from '../../apps/proxy/src/index.js';
import { freePort } from '../e2e/platform.js';
import { apiFixture, requestLoop } from './api-proxy-helpers.js';
import { spawnMain, type MainProcess } from './proxy-helpers.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}); cleanup = []; });
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-proxy-')); cleanup.push(async () => fs.rmSync(d, { recursive: true, force: true })); return d; };

type Api = Awaited<ReturnType<typeof apiFixture>>;

async function proxyFor(f: Api) {
  const config = loadConfig({ DREAM_DATA_DIR: tmp(), DREAM_API_URL: f.config.apiUrl, DREAM_DRAIN_TIMEOUT_MS: '2000', DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token: f.token, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', httpsPort: null, pollWaitSeconds: 3 });
  cleanup.push(() => proxy.close());
  await proxy.routes.synced;
  return proxy;
}

function mainProxy(f: Api, env: Record<string, string>): MainProcess {
  const p = spawnMain({ DREAM_API_URL: f.config.apiUrl, DREAM_INTERNAL_TOKEN: f.token, DREAM_HTTPS_PORT: '0', DREAM_DNS_PORT: '0',
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_DRAIN_TIMEOUT_MS: '2000', DREAM_LOG_LEVEL: 'info', DREAM_ACCESS_LOG: 'off', ...env });
  cleanup.push(async () => { if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited; } });
  return p;
}

/** A redeploy (POST /v1/apps/alpha/restart): how long it took, and what its log says about acks. */
async function redeploy(f: Api) {
  const t0 = Date.now();
  const res = await f.call('POST', '/v1/apps/alpha/restart');
  const ms = Date.now() - t0;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.deployment.state).toBe('healthy');
  const dep = await f.call('GET', `/v1/apps/alpha/deployments/${res.body.deployment.id}`);
  return { ms, log: JSON.stringify(dep.body) };
}

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe('a proxy that stops says goodbye', () => {
  it('startProxy close(): the next deploy waits only for the proxies still serving', async () => {
    const f = await apiFixture();
    cleanup.push(() => f.close());
    await f.deployNew('alpha');
    const stays = await proxyFor(f);
    const leaves = await proxyFor(f);
    await leaves.close();
    const loop = requestLoop(stays.port, 'alpha.dream', 2);
    const { ms, log } = await redeploy(f);
    const { ok, failures } = await loop.stop();
    console.log(`deploy after a proxy stopped: ${ms} ms; ${ok} ok, ${failures.length} failed`);
    expect(log).not.toMatch(/did not confirm the switch/);
    expect(ms).toBeLessThan(2000); // drain timeout + 5 s = 7 s when it waits for the gone proxy
    expect(failures).toEqual([]);
  }, 60_000);

  it('cluster workers (DREAM_PROXY_WORKERS=2): each worker says goodbye on SIGTERM', async () => {
    const f = await apiFixture();
    cleanup.push(() => f.close());
    await f.deployNew('alpha');
    const p = mainProxy(f, { DREAM_DATA_DIR: tmp(), DREAM_HTTP_PORT: String(await freePort()), DREAM_PROXY_WORKERS: '2' });
    await p.seen(/routes acked[\s\S]*routes acked/, 30_000); // both workers polled and acked
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(count(p.out(), /said goodbye to the api/g), p.out()).toBe(2); // the log, should it fail again
    const { ms, log } = await redeploy(f);
    console.log(`deploy after a 2-worker proxy stopped: ${ms} ms`);
    expect(log).not.toMatch(/did not confirm the switch/);
    expect(ms).toBeLessThan(2000);
  }, 90_000);

  it('handover: the old proxy says goodbye only once the new one listens and it drained; no request fails', async () => {
    const f = await apiFixture();
    cleanup.push(() => f.close());
    await f.deployNew('alpha');
    const port = await freePort();
    const dataDir = tmp();
    const old = mainProxy(f, { DREAM_DATA_DIR: dataDir, DREAM_HTTP_PORT: String(port), DREAM_PROXY_WORKERS: '1' });
    await old.seen(/routes acked/, 30_000);
    const loop = requestLoop(port, 'alpha.dream', 2);
    const next = mainProxy(f, { DREAM_DATA_DIR: dataDir, DREAM_HTTP_PORT: String(port), DREAM_PROXY_WORKERS: '1' });
    await old.seen(/handover: drained/, 30_000);
    // Goodbye comes once it drained (it served its open connections until then), not when it
    // released the listeners.
    const out = old.out();
    const at = (s: string) => { const i = out.indexOf(s); expect(i, s).toBeGreaterThan(-1); return i; };
    expect(at('said goodbye to the api')).toBeGreaterThan(at('handover: the next proxy listens; draining'));
    expect(at('said goodbye to the api')).toBeLessThan(at('handover: drained'));
    expect(count(out, /said goodbye to the api/g)).toBe(1);
    await next.seen(/routes acked/, 30_000);
    const { ms, log } = await redeploy(f);
    await new Promise((r) => setTimeout(r, 500));
    const { ok, failures } = await loop.stop();
    console.log(`deploy after a handover: ${ms} ms; ${ok} ok, ${failures.length} failed`);
    expect(log).not.toMatch(/did not confirm the switch/);
    expect(ms).toBeLessThan(2000);
    expect(ok).toBeGreaterThan(50);
    expect(failures).toEqual([]);
    next.child.kill('SIGTERM');
    expect(await next.exited).toBe(0);
    old.child.kill('SIGTERM');
    await old.exited;
    expect(count(old.out(), /said goodbye to the api/g)).toBe(1); // not a second time
  }, 120_000);
});
