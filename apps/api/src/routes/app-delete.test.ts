// DELETE /v1/apps/:app while a rollout of that app is mid-way (a reconcile pass re-applying it, or a
// restart): afterwards the target runs nothing for the app, no route points at it, and a later
// reconcile pass recreates nothing. The in-flight apply is held at a gate, as a real target is held
// by its health wait; like a real target it gives up when the apply's signal aborts.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { ApplyHooks, ReleaseSpec } from '@dreamnet/core';
import type { FakeTarget } from '@dreamnet/targets';
import { source, testApi } from '../test-support.js';

function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The next apply() stops before it starts replicas (`start`) or after they started, before traffic
 * switches (`switch`), until release() — or until its signal aborts, then it throws the reason.
 */
function holdNextApply(target: FakeTarget, where: 'start' | 'switch') {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let reached!: () => void;
  const at = new Promise<void>((r) => { reached = r; });
  const apply = target.apply.bind(target);
  const hold = async (hooks: ApplyHooks) => {
    reached();
    await Promise.race([gate, aborted(hooks.signal)]);
    hooks.signal?.throwIfAborted();
  };
  target.apply = async (spec: ReleaseSpec, hooks: ApplyHooks = {}) => {
    target.apply = apply;
    if (where === 'start') { await hold(hooks); return apply(spec, hooks); }
    return apply(spec, { ...hooks, switchTraffic: async (eps) => { await hold(hooks); await hooks.switchTraffic?.(eps); } });
  };
  return { reached: at, release };
}

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
