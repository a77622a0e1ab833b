// The foundation, end to end: real processes, real Docker, real git.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, getVia, gitRepo, push, startPlatform, type Platform } from './platform.js';

let p: Platform;
beforeAll(async () => { p = await startPlatform(); });
afterAll(async () => {
  for (const app of ['node', 'dockerfile', 'static', 'guarded']) await p?.request('DELETE', `/v1/apps/${app}`).catch(() => {});
  await p?.stop();
});

/**
 * Requests through the proxy in a bounded loop while `during` runs, and after it until `expected`
 * was served (at least 300 ms, at most 5 s: on a loaded box a fixed 300 ms could end before the
 * first request after the switch); counts every outcome.
 */
async function underLoad(app: string, expected: string, during: () => Promise<void>) {
  const seen = new Map<string, number>();
  let errors = 0; let non2xx = 0; let total = 0; let stop = false;
  const workers = Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 20_000 && !stop; i++) {
      total++;
      try {
        const r = await getVia(p.proxyPort, `${app}.dream`);
        if (r.status < 200 || r.status > 299) non2xx++;
        const key = r.status === 200 ? r.body : `${r.status} ${r.body.slice(0, 80)}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      } catch { errors++; }
    }
  });
  await during();
  const until = Date.now() + 5000;
  await new Promise((r) => setTimeout(r, 300));
  while (!seen.has(expected) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  stop = true;
  await Promise.all(workers);
  return { seen, errors, non2xx, total };
}

describe('git push → running, routed app', () => {
  it('pushes a Node app with no Dockerfile and serves it through the proxy', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'node' })).status).toBe(201);
    const dir = await gitRepo('node-app');
    const r = await push(p, dir, 'node');
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/remote: -----> Building node/);
    expect(r.output).toMatch(/remote: =====> node v1 deployed: http:\/\/node\.dream:\d+/);
    expect(await p.get('node')).toEqual({ status: 200, body: 'node v1' });

    // A redeploy under constant load: zero failed requests, and the new body is served after.
    await commit(dir, { 'body.txt': 'node v2\n' });
    const load = await underLoad('node', 'node v2', async () => {
      const again = await push(p, dir, 'node');
      expect(again.code, again.output).toBe(0);
    });
    expect(load.errors, JSON.stringify([...load.seen])).toBe(0);
    expect(load.non2xx, JSON.stringify([...load.seen])).toBe(0);
    expect(load.total).toBeGreaterThan(50);
    expect(load.seen.get('node v2')).toBeGreaterThan(0);
    expect(await p.get('node')).toEqual({ status: 200, body: 'node v2' });
  });

  it('a push whose build fails exits non-zero with the reason and the old release keeps serving', async () => {
    const dir = await gitRepo('node-app', { 'body.txt': 'node v2\n' });
    await commit(dir, { 'package.json': '{ "name": "x", "scripts": { "build": "node -e \\"process.exit(7)\\"", "start": "node server.js" } }' }, 'break the build');
    const r = await push(p, dir, 'node', '+main');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Deploy of node failed/);
    expect(r.output).toMatch(/pre-receive hook declined/);
    expect(await p.get('node')).toEqual({ status: 200, body: 'node v2' });
    const deps = await p.request('GET', '/v1/apps/node/deployments');
    expect(deps.body.items[0]).toMatchObject({ state: 'failed' });
  });

  it('config change and rollback restore the old image and the old config', async () => {
    const set = await p.request('PATCH', '/v1/apps/node/config', { set: { GREETING: 'hi-from-config' } });
    expect(set.status).toBe(200);
    expect(set.body.deployment.state).toBe('healthy');
    expect(await p.get('node', '/env')).toEqual({ status: 200, body: 'hi-from-config' });
    const releases = (await p.request('GET', '/v1/apps/node/releases')).body.items as { version: number; description: string }[];
    const v1 = releases.find((r) => r.version === 1)!;
    expect(v1).toBeTruthy();
    const rb = await p.request('POST', '/v1/apps/node/rollback', { version: 1 });
    expect(rb.status).toBe(201);
    expect(rb.body.deployment.state).toBe('healthy');
    expect(await p.get('node')).toEqual({ status: 200, body: 'node v1' });
    expect(await p.get('node', '/env')).toEqual({ status: 200, body: 'undefined' });
  });

  it('builds an app from its own Dockerfile', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'dockerfile' })).status).toBe(201);
    const r = await push(p, await gitRepo('dockerfile-app'), 'dockerfile');
    expect(r.code, r.output).toBe(0);
    expect(await p.get('dockerfile')).toEqual({ status: 200, body: 'from a Dockerfile' });
  });

  it('serves a static site with no server code', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'static' })).status).toBe(201);
    const r = await push(p, await gitRepo('static-site'), 'static');
    expect(r.code, r.output).toBe(0);
    const page = await p.get('static');
    expect(page.status).toBe(200);
    expect(page.body).toContain('static site works');
  });

  it('stores pushes to other branches without deploying, and refuses option-like refs', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'guarded' })).status).toBe(201);
    const dir = await gitRepo('node-app');
    const other = await push(p, dir, 'guarded', 'main:refs/heads/feature');
    expect(other.code, other.output).toBe(0);
    expect(other.output).toMatch(/stored refs\/heads\/feature; only pushes to "main" deploy/);
    expect((await p.request('GET', '/v1/apps/guarded')).body.currentRelease).toBeNull();
    const evil = await push(p, dir, 'guarded', 'main:refs/heads/--upload-pack=x');
    expect(evil.code).not.toBe(0);
    expect((await p.request('GET', '/v1/apps/guarded/deployments')).body.items).toEqual([]);
    const unknown = await push(p, dir, 'no-such-app');
    expect(unknown.code).not.toBe(0);
    const wrong = await push({ ...p, token: 'wrong' }, dir, 'guarded');
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/Authentication failed|401/);
  });

  it('unknown hosts get a clear 404 from the proxy', async () => {
    const r = await getVia(p.proxyPort, 'nobody.dream');
    expect(r.status).toBe(404);
    expect(r.body).toMatch(/nobody\.dream/);
  });
});
