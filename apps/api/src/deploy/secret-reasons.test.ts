// A replica that dies printing its config (a connection string in a crash message) must not put
// the secret into what the platform keeps and shows: the deployment's reason and events (which a
// read token and the outbound notification see), its build log, or the api's own log (the
// reconciler's warning). The docker-host target's HEALTH_CHECK_FAILED carries the replica's last
// log lines; the target below fails the same way.
import { Readable, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DreamError, type ReleaseSpec } from '@dreamnet/core';
import { source, testApi } from '../test-support.js';

const SECRET = 'postgres://app:hunter2-s3cret@db.internal/app';
const OLD = 'old-s3cret-from-v1';

async function setup() {
  const lines: string[] = [];
  const sink = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
  const t = await testApi({}, { log: pino({ level: 'info' }, sink) });
  await t.app.ready();
  const read = { authorization: `Bearer ${t.store.tokens.create('viewer', 'read', ['web']).token}` };
  await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
  await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { DATABASE_URL: OLD } } });
  const first = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'first' });
  expect(first.state).toBe('healthy');
  await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { DATABASE_URL: SECRET } } });
  // From now on every replica crashes saying what it connected to.
  const crash = async (spec: ReleaseSpec): Promise<never> => {
    throw new DreamError('HEALTH_CHECK_FAILED', `Replica 1/1 of web did not become healthy. Last log lines:\nError: connect ECONNREFUSED ${spec.env.DATABASE_URL}`);
  };
  t.target.apply = crash as typeof t.target.apply;
  const everything = async () => {
    const shown = await Promise.all(['/v1/deployments', '/v1/apps/web/deployments'].map((u) => t.app.inject({ method: 'GET', url: u, headers: read })));
    const ids = (shown[0]!.json().items as { id: string }[]).map((d) => d.id);
    const one = await Promise.all(ids.map((id) => t.app.inject({ method: 'GET', url: `/v1/apps/web/deployments/${id}`, headers: read })));
    const logs = await Promise.all(ids.map((id) => t.app.inject({ method: 'GET', url: `/v1/apps/web/deployments/${id}/logs`, headers: read })));
    return [...shown, ...one, ...logs].map((r) => r.body).join('\n') + lines.join('');
  };
  return { t, read, everything };
}

describe('secrets in a failing replica\'s last words', () => {
  it('a failed deploy, restart and rollback say why without the secret values', async () => {
    const { t, read, everything } = await setup();
    const restart = await t.app.inject({ method: 'POST', url: '/v1/apps/web/restart', headers: t.auth });
    expect(restart.json().deployment.state).toBe('failed');
    expect(restart.json().deployment.reason).toMatch(/ECONNREFUSED \*\*\*\*/);
    const deployed = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'second' });
    expect(deployed.state).toBe('failed');
    // Rollback to v1 runs v1's config, whose value is no longer the app's current one.
    const rollback = await t.app.inject({ method: 'POST', url: '/v1/apps/web/rollback', headers: t.auth, payload: { version: 1 } });
    expect(rollback.json().deployment.state).toBe('failed');
    const seen = await everything();
    expect(seen).toContain('ECONNREFUSED ****');
    expect(seen).not.toContain('hunter2');
    expect(seen).not.toContain(OLD);
    expect((await t.app.inject({ method: 'GET', url: '/v1/deployments', headers: read })).statusCode).toBe(200);
  });

  it('the reconciler\'s warning in the api log does not carry the secret', async () => {
    const { t, everything } = await setup();
    await t.reconciler.pass(true);
    const seen = await everything();
    expect(seen).toContain('could not reconcile app');
    expect(seen).not.toContain('hunter2');
  });
});
