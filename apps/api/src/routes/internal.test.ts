// POST /v1/internal/routes/leave: the internal token only, a validated body, and a proxy that said
// goodbye holds no switch up any more — not even through a poll of its the api was still holding.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { source, testApi } from '../test-support.js';

const leave = (t: Awaited<ReturnType<typeof testApi>>, payload: unknown, token = t.internalToken) =>
  t.app.inject({ method: 'POST', url: '/v1/internal/routes/leave', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

describe('POST /v1/internal/routes/leave', () => {
  it('refuses a user token, no token and bodies that are not {proxy}; 204 for any valid id', async () => {
    const t = await testApi();
    expect((await leave(t, { proxy: 'p1' }, t.admin)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/v1/internal/routes/leave', payload: { proxy: 'p1' } })).statusCode).toBe(401);
    for (const bad of [{}, { proxy: '' }, { proxy: 'a b' }, { proxy: 'x'.repeat(65) }, { proxy: 'p1', extra: 1 }, { proxy: ['a', 'b'] }]) {
      const r = await leave(t, bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().code).toBe('VALIDATION_FAILED');
    }
    expect((await leave(t, { proxy: 'never-seen' })).statusCode).toBe(204);
  });

  it('a switch waiting for a proxy goes on at once when it leaves; its held poll does not bring it back', { timeout: 20_000 }, async () => {
    const t = await testApi({ DREAM_DRAIN_TIMEOUT_MS: '3000' });
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
    expect((await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'first' })).state).toBe('healthy');
    const poll = (since: number, wait: number) => t.app.inject({ method: 'GET', url: `/v1/internal/routes?proxy=p1&since=${since}&wait=${wait}`, headers: { authorization: `Bearer ${t.internalToken}` } });
    await poll(0, 0);
    const t0 = Date.now();
    const scaled = t.app.inject({ method: 'POST', url: '/v1/apps/web/scale', headers: t.auth, payload: { replicas: 2 } });
    await new Promise((r) => setTimeout(r, 300));
    // p1 has not acked the switch; a poll of its is held (answered after the goodbye, by its timeout).
    const { version } = (await poll(0, 0)).json() as { version: number };
    const held = poll(version, 1);
    expect((await leave(t, { proxy: 'p1' })).statusCode).toBe(204);
    const res = await scaled;
    expect(res.statusCode).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1500); // drain timeout + 5 s = 8 s without the goodbye
    expect(res.json().deployment.state).toBe('healthy');
    await held;
    const t1 = Date.now();
    const again = await t.app.inject({ method: 'POST', url: '/v1/apps/web/scale', headers: t.auth, payload: { replicas: 1 } });
    expect(Date.now() - t1).toBeLessThan(1500);
    const dep = await t.app.inject({ method: 'GET', url: `/v1/apps/web/deployments/${again.json().deployment.id}`, headers: t.auth });
    expect(dep.body).not.toMatch(/did not confirm the switch/);
  });
});
