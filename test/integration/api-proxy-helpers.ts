// Fixtures for suites that run the real api (startApi: the api process's own wiring, its SQLite
// file, route table and reconciler) in front of real proxies: a fake target whose replicas are real
// HTTP servers that stop when the target stops the replica, and a constant request loop.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { internalToken, loadConfig, type ApplyHooks, type Config, type ReleaseSpec } from '@dreamnet/core';
import { FakeTarget } from '@dreamnet/targets';
import { expect } from 'vitest';
import { startApi } from '../../apps/api/src/main.js';
import { StubBuilder, source } from '../../apps/api/src/test-support.js';
import { freePort } from '../e2e/platform.js';
import { request, startUpstream } from './proxy-helpers.js';

type Upstream = Awaited<ReturnType<typeof startUpstream>>;

/** Replicas are real servers; a replica the target stops (old release, surplus) stops listening. */
export class ServingTarget extends FakeTarget {
  private readonly servers = new Map<string, Upstream>();
  private constructor(private readonly pool: Upstream[]) {
    super({ address: (spec, r) => this.take(spec, r) });
  }
  static async create(n = 12): Promise<ServingTarget> {
    const pool: Upstream[] = [];
    for (let i = 0; i < n; i++) pool.push(await startUpstream(`u${i}`));
    return new ServingTarget(pool);
  }
  private take(spec: ReleaseSpec, r: number) {
    const u = this.pool.shift();
    if (!u) throw new Error('ServingTarget: no upstream left');
    this.servers.set(`${spec.app}/${spec.releaseId}/${r}`, u);
    return u.endpoint;
  }
  override async apply(spec: ReleaseSpec, hooks?: ApplyHooks) {
    const r = await super.apply(spec, hooks);
    await this.stopGone(spec.app);
    return r;
  }
  /** Closes the servers of replicas the fake no longer has: a container that stopped. */
  private async stopGone(app: string): Promise<void> {
    const live = new Set((await this.status(app)).replicas.map((x) => `${app}/${x.releaseId}/${x.replica}`));
    for (const [k, u] of this.servers) if (k.startsWith(`${app}/`) && !live.has(k)) { this.servers.delete(k); await u.close(); }
  }
  async closeAll(): Promise<void> {
    for (const u of [...this.servers.values(), ...this.pool]) await u.close();
  }
}

/** The api as its process runs it (startApi) on a fixed port and data dir, so it can be restarted. */
export async function apiFixture(env: Record<string, string> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-apiproxy-'));
  const port = await freePort();
  const config: Config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_TARGET: 'fake', DREAM_API_HOST: '127.0.0.1', DREAM_API_PORT: String(port),
    DREAM_LOG_LEVEL: 'silent', DREAM_DRAIN_TIMEOUT_MS: '2000', DREAM_RECONCILE_INTERVAL_MS: '600000', ...env });
  const target = await ServingTarget.create();
  const builder = new StubBuilder();
  let api = await startApi(config, { target, builder });
  const admin = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${config.apiUrl}${p}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    config, dataDir, target, admin, call,
    token: internalToken(config),
    get api() { return api; },
    async deployNew(app: string) {
      expect((await call('POST', '/v1/apps', { name: app })).status).toBe(201);
      const d = await api.deployer.deploySource(app, { context: () => Readable.from(source()()), description: 'first' });
      expect(d.state).toBe('healthy');
    },
    /** Stops the api as SIGTERM does; `downMs` later starts it again on the same port and database. */
    async restart(downMs: number) {
      await api.close();
      await new Promise((r) => setTimeout(r, downMs));
      api = await startApi(config, { target, builder });
    },
    async close() { await api.close(); await target.closeAll(); fs.rmSync(dataDir, { recursive: true, force: true }); },
  };
}

/** `n` clients each sending requests back to back (keep-alive) to `host` through the proxy until stopped. */
export function requestLoop(port: number, host: string, n = 4) {
  let running = true;
  const failures: string[] = [];
  let ok = 0;
  const loops = Array.from({ length: n }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      try {
        const r = await request(port, host, '/', { agent });
        if (r.status === 200) ok++;
        else failures.push(`${r.status} ${String(r.headers['x-dream-error'] ?? '')}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    agent.destroy();
  });
  return {
    get ok() { return ok; },
    failures,
    async stop() { running = false; await Promise.all(loops); return { ok, failures }; },
  };
}
