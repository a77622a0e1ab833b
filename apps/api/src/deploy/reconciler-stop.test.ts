// Reconciler.stop() as the api's shutdown and a restore use it: once it resolves, no pass runs or
// starts (so the database may close or be swapped), the step in flight was cancelled rather than
// abandoned, and the next start() brings back what that step did not finish.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { holdNextApply } from '../test-hold.js';
import { source, testApi } from '../test-support.js';

async function deployedWeb() {
  const t = await testApi();
  expect((await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } })).statusCode).toBe(201);
  expect((await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'first' })).state).toBe('healthy');
  return t;
}

/** Counts passes: each one starts by listing the target's inventory. */
function countPasses(t: Awaited<ReturnType<typeof testApi>>) {
  let n = 0;
  const inventory = t.target.inventory.bind(t.target);
  t.target.inventory = () => { n++; return inventory(); };
  return () => n;
}

afterEach(() => { vi.useRealTimers(); });

describe('Reconciler.stop()', () => {
  it('resolves only after the running pass has ended, cancelling the apply in flight; start() re-applies it', async () => {
    const t = await deployedWeb();
    const current = t.store.apps.get('web').current_release_id;
    await t.target.prune('web', null); // its replica vanished: the next pass re-applies the release
    const held = holdNextApply(t.target, 'start');
    const order: string[] = [];
    const pass = t.reconcilerPass().finally(() => order.push('pass ended'));
    await held.reached;
    await t.reconciler.stop();
    order.push('stop resolved');
    expect(order).toEqual(['pass ended', 'stop resolved']);
    expect(held.sawAbort()).toBe(true);
    await pass;
    expect((await t.target.inventory()).filter((i) => i.app === 'web')).toEqual([]);
    // The database can go now: nothing of the stopped pass is left to touch it.
    // The next start() (after a restart or a restore) adopts the app and brings the release back.
    await t.reconciler.start();
    await t.reconciler.stop();
    expect((await t.target.inventory()).filter((i) => i.app === 'web').map((i) => i.releaseId)).toEqual([current]);
    expect(t.routes.snapshot().routes.find((r) => r.app === 'web')?.endpoints).toHaveLength(1);
  });

  it('starts no pass afterwards: not an explicit pass() racing it, not the interval', async () => {
    const t = await deployedWeb();
    const passes = countPasses(t);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await t.reconciler.start();
    expect(passes()).toBe(1);
    vi.advanceTimersByTime(t.config.reconcileIntervalMs);
    expect(passes()).toBe(2); // the interval works while it runs…
    const stopping = t.reconciler.stop();
    await t.reconcilerPass(); // …a pass asked for after stop() joins the ending one, starts none
    await stopping;
    await t.reconcilerPass();
    vi.advanceTimersByTime(10 * t.config.reconcileIntervalMs);
    expect(passes()).toBe(2);
  });
});
