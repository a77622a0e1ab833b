// An api restart must not forget the proxies: a redeploy right after it (while the proxy is still
// backing off from the outage, or waiting for the first reconcile pass) waits for that proxy's ack
// before the old replicas stop. Real parts: the api as its process wires it (startApi, its SQLite
// file), a real proxy (startProxy), replicas that are real servers and really stop, real HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { apiFixture, requestLoop } from './api-proxy-helpers.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.reverse()) await c().catch(() => {}); cleanup = []; });

async function proxyFor(f: Awaited<ReturnType<typeof apiFixture>>): Promise<ProxyHandle> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-proxy-'));
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: f.config.apiUrl, DREAM_DRAIN_TIMEOUT_MS: '2000', DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token: f.token, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', httpsPort: null, pollWaitSeconds: 3 });
  cleanup.push(async () => { await proxy.close(); fs.rmSync(dataDir, { recursive: true, force: true }); });
  await proxy.routes.synced;
  return proxy;
}

describe('api restart, then a redeploy at once', () => {
  it('no request fails: the restarted api waits for the proxy it knew before the old replicas stop', async () => {
    const f = await apiFixture();
    cleanup.push(() => f.close());
    await f.deployNew('alpha');
    const proxy = await proxyFor(f);
    const loop = requestLoop(proxy.port, 'alpha.dream');
    await new Promise((r) => setTimeout(r, 300));
    // A process restart takes a moment: the proxy's poll fails meanwhile and it backs off.
    await f.restart(1500);
    const t0 = Date.now();
    const res = await f.call('POST', '/v1/apps/alpha/restart');
    const tookMs = Date.now() - t0;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.deployment.state).toBe('healthy');
    await new Promise((r) => setTimeout(r, 1000));
    const { ok, failures } = await loop.stop();
    console.log(`api restart + redeploy: ${ok} ok, ${failures.length} failed (${[...new Set(failures)].join('; ')}), restart took ${tookMs} ms`);
    expect(ok).toBeGreaterThan(50);
    expect(failures).toEqual([]);
  }, 60_000);
});
