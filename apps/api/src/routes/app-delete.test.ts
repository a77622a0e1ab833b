// DELETE /v1/apps/:app while a rollout of that app is mid-way (a reconcile pass re-applying it, or a
// restart) or its build is: afterwards the target runs nothing for the app, no route points at it, and a later
// reconcile pass recreates nothing. The in-flight apply is held at a gate, as a real target is held
// by its health wait (a build by a long step); like the real ones it gives up when its signal aborts.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { holdNextApply, holdNextBuild } from '../test-hold.js';
import { source, testApi } from '../test-support.js';

async function deployedWeb() {
  const t = await testApi();
  expect((await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } })).statusCode).toBe(201);
  expect((await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'first' })).state).toBe('healthy');
  return t;
}

async function expectNothingFor(t: Awaited<ReturnType<typeof testApi>>, app: string) {
  expect((await t.target.inventory()).filter((i) => i.app === app)).toEqual([]);
  expect(t.routes.snapshot().routes.filter((r) => r.app === app)).toEqual([]);
}

describe('DELETE /v1/apps/:app during a rollout', () => {
  it.each(['start', 'switch'] as const)('a reconcile pass re-applying the app (held at %s) leaves nothing behind', async (where) => {
    const t = await deployedWeb();
    await t.target.prune('web', null); // its replica vanished: the next pass re-applies the release
    const held = holdNextApply(t.target, where);
    const pass = t.reconcilerPass();
    await held.reached;
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/web', headers: t.auth });
    expect(del.statusCode).toBe(204);
    held.release();
    await pass;
    await expectNothingFor(t, 'web');
    await t.reconcilerPass();
    await expectNothingFor(t, 'web');
  });

  it.each(['start', 'switch'] as const)('a restart (held at %s) is cancelled and leaves nothing behind', async (where) => {
    const t = await deployedWeb();
    const held = holdNextApply(t.target, where);
    const restart = t.app.inject({ method: 'POST', url: '/v1/apps/web/restart', headers: t.auth });
    await held.reached;
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/web', headers: t.auth });
    expect(del.statusCode).toBe(204);
    held.release();
    const res = await restart;
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().deployment).toMatchObject({ state: 'failed', reason: expect.stringMatching(/was deleted/) });
    await expectNothingFor(t, 'web');
    await t.reconcilerPass();
    await expectNothingFor(t, 'web');
    expect(t.store.apps.find('web')).toBeUndefined();
  });
});

describe('DELETE /v1/apps/:app during a build', () => {
  it('cancels the build: the deletion does not wait it out, the deployment fails saying why, nothing is left', async () => {
    const t = await deployedWeb();
    const held = holdNextBuild(t.builder);
    const lines: string[] = [];
    const deploying = t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'second' }, (l) => lines.push(l));
    await held.reached;
    // Without the signal the build would hold the deletion for CANCEL_WAIT_MS (60 s, past the test's timeout).
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/web', headers: t.auth });
    expect(del.statusCode).toBe(204);
    expect(held.sawAbort()).toBe(true);
    const dep = await deploying;
    expect(dep).toMatchObject({ state: 'failed', reason: 'The app "web" was deleted while this was in progress.' });
    expect(lines).toContain('-----> Deploy failed: The app "web" was deleted while this was in progress.');
    expect(t.builder.count).toBe(1); // the first deploy's build only: the cancelled one made no image
    await expectNothingFor(t, 'web');
    await t.reconcilerPass();
    await expectNothingFor(t, 'web');
    expect(t.store.apps.find('web')).toBeUndefined();
  });
});
