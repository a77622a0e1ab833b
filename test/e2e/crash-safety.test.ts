// kill -9 of the api mid-deploy leaves either the old or the new release serving, never neither,
// and no orphan containers once it is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, gitRepo, push, run, startPlatform, type Platform } from './platform.js';

let p: Platform;
beforeAll(async () => { p = await startPlatform(); });
afterAll(async () => {
  for (const app of ['crashy', 'crashb']) await p?.request('DELETE', `/v1/apps/${app}`).catch(() => {});
  await p?.stop();
});

async function containers(app: string): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-a', '--filter', `label=dev.dreamnet.app=${app}`, '--format', '{{.Label "dev.dreamnet.release"}} {{.State}}']);
  return stdout.split('\n').filter(Boolean).sort();
}

describe('crash safety', () => {
  it('kill -9 of the api while a release rolls out: something always serves, and no orphans after restart', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'crashy' })).status).toBe(201);
    const dir = await gitRepo('node-app', { 'body.txt': 'crash v1\n' });
    expect((await push(p, dir, 'crashy')).code).toBe(0);
    expect(await p.get('crashy')).toEqual({ status: 200, body: 'crash v1' });

    await commit(dir, { 'body.txt': 'crash v2\n' });
    const pushing = push(p, dir, 'crashy');
    // Wait until the new release is being rolled out, then kill the api without warning.
    for (let i = 0; i < 600; i++) {
      const deps = await p.request('GET', '/v1/apps/crashy/deployments').catch(() => null);
      if (deps?.body?.items?.[0]?.state === 'deploying') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    p.api.kill('SIGKILL');
    const pushed = await pushing;

    // While the api is down the proxy keeps serving from its last routes.
    const during = await p.get('crashy');
    expect(during.status).toBe(200);
    expect(['crash v1', 'crash v2']).toContain(during.body);

    await p.restart('api');
    let after = { status: 0, body: '' };
    let live: string[] = [];
    for (let i = 0; i < 100; i++) {
      after = await p.get('crashy');
      live = await containers('crashy');
      if (after.status === 200 && live.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(after.status).toBe(200);
    expect(['crash v1', 'crash v2']).toContain(after.body);
    // A push that reported success must be what serves.
    if (pushed.code === 0) expect(after.body).toBe('crash v2');
    const app = (await p.request('GET', '/v1/apps/crashy')).body;
    expect(live).toEqual([`${app.currentRelease.id} running`]);
    const deps = (await p.request('GET', '/v1/apps/crashy/deployments')).body.items;
    expect(deps.every((d: { state: string }) => ['healthy', 'failed', 'superseded'].includes(d.state))).toBe(true);

    // And the platform still deploys afterwards.
    await commit(dir, { 'body.txt': 'crash v3\n' });
    const again = await push(p, dir, 'crashy');
    expect(again.code, again.output).toBe(0);
    expect(await p.get('crashy')).toEqual({ status: 200, body: 'crash v3' });
    expect(await containers('crashy')).toHaveLength(1);
  });

  it('kill -9 of the builder mid-build fails that push with a reason; the old release keeps serving; the next push works', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'crashb' })).status).toBe(201);
    const dir = await gitRepo('node-app', { 'body.txt': 'b v1\n' });
    expect((await push(p, dir, 'crashb')).code).toBe(0);
    // A build that takes a while, so the kill lands inside it.
    await commit(dir, { 'body.txt': 'b v2\n', 'package.json': '{ "name": "b", "scripts": { "build": "sleep 20", "start": "node server.js" } }' });
    const pushing = push(p, dir, 'crashb');
    for (let i = 0; i < 600; i++) {
      const deps = await p.request('GET', '/v1/apps/crashb/deployments');
      if (deps.body.items[0]?.state === 'building' && (await p.request('GET', `/v1/apps/crashb/deployments/${deps.body.items[0].id}`)).body.buildLog.includes('npm run build')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await p.restart('builder', 'SIGKILL');
    const failed = await pushing;
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/Deploy of crashb failed/);
    expect(await p.get('crashb')).toEqual({ status: 200, body: 'b v1' });
    expect((await p.request('GET', '/v1/apps/crashb/deployments')).body.items[0].state).toBe('failed');

    await commit(dir, { 'package.json': '{ "name": "b", "scripts": { "start": "node server.js" } }' });
    const again = await push(p, dir, 'crashb');
    expect(again.code, again.output).toBe(0);
    expect(await p.get('crashb')).toEqual({ status: 200, body: 'b v2' });
  });
});
