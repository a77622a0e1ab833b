import { describe, expect, it } from 'vitest';
import { testApi, source } from '../test-support.js';
import { Readable } from 'node:stream';

describe('apps API', () => {
  it('creates, lists, gets and deletes an app', async () => {
    const t = await testApi();
    const created = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'hello' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'hello', deployBranch: 'main', replicas: 1, url: 'http://hello.dream:8080', currentRelease: null });
    expect(created.json().gitUrl).toMatch(/\/git\/hello\.git$/);
    const list = await t.app.inject({ method: 'GET', url: '/v1/apps', headers: t.auth });
    expect(list.json().items.map((a: { name: string }) => a.name)).toEqual(['hello']);
    const dup = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'hello' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'APP_EXISTS', statusCode: 409, error: 'Conflict' });
    expect(dup.json().requestId).toBeTruthy();
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/hello', headers: t.auth });
    expect(del.statusCode).toBe(204);
    const gone = await t.app.inject({ method: 'GET', url: '/v1/apps/hello', headers: t.auth });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('APP_NOT_FOUND');
  });

  it('keeps an app\'s own proxy settings and hands them to the proxies with the next route table', async () => {
    const t = await testApi();
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'hello' } });
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]); // as the deployer does
    const route = () => t.routes.snapshot().routes.find((r) => r.app === 'hello');
    expect(route()).toEqual({ app: 'hello', hosts: ['hello.dream'], endpoints: [{ host: '127.0.0.1', port: 5000 }] });
    const before = t.routes.snapshot().version;
    const set = await t.app.inject({ method: 'PATCH', url: '/v1/apps/hello', headers: t.auth, payload: { maxRequestBody: 52428800, requestBuffering: false } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ name: 'hello', maxRequestBody: 52428800, requestBuffering: false });
    expect(t.routes.snapshot().version).toBeGreaterThan(before);
    expect(route()).toMatchObject({ maxRequestBody: 52428800, requestBuffering: false });
    // As the proxies get it.
    const polled = await t.app.inject({ method: 'GET', url: '/v1/internal/routes?proxy=p1&since=0&wait=0', headers: { authorization: `Bearer ${t.internalToken}` } });
    expect(polled.json().routes).toEqual([{ app: 'hello', hosts: ['hello.dream'], endpoints: [{ host: '127.0.0.1', port: 5000 }], maxRequestBody: 52428800, requestBuffering: false }]);
    // A later deploy sets the route again: the settings stay.
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5001 }]);
    expect(route()).toMatchObject({ endpoints: [{ host: '127.0.0.1', port: 5001 }], maxRequestBody: 52428800, requestBuffering: false });
    // null: back to the proxy's own settings, and the fields leave the table.
    const reset = await t.app.inject({ method: 'PATCH', url: '/v1/apps/hello', headers: t.auth, payload: { maxRequestBody: null, requestBuffering: null } });
    expect(reset.json()).toMatchObject({ maxRequestBody: null, requestBuffering: null });
    expect(route()).toEqual({ app: 'hello', hosts: ['hello.dream'], endpoints: [{ host: '127.0.0.1', port: 5001 }] });
    // Bad values: a catalogued 400, nothing changed.
    for (const payload of [{ maxRequestBody: -1 }, { maxRequestBody: 1.5 }, { maxRequestBody: '50m' }, { requestBuffering: 'off' }]) {
      const bad = await t.app.inject({ method: 'PATCH', url: '/v1/apps/hello', headers: t.auth, payload });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('VALIDATION_FAILED');
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/hello', headers: t.auth })).json()).toMatchObject({ maxRequestBody: null, requestBuffering: null });
  });

  it.each(['a;rm -rf /', '../x', 'x'.repeat(200), 'Hello', '-x', '', '1abc', 'a b'])('rejects the app name %j with INVALID_APP_NAME and creates nothing', async (name) => {
    const t = await testApi();
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name } });
    expect(res.statusCode).toBe(400);
    expect(['INVALID_APP_NAME', 'VALIDATION_FAILED']).toContain(res.json().code);
    expect(res.json().message).toMatch(/[a-z]/);
    expect(t.store.apps.list()).toEqual([]);
  });

  it('rejects the reserved app name ns (ns.dream is the zone\'s name server) with INVALID_APP_NAME and creates nothing; names around it are fine', async () => {
    const t = await testApi();
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'ns' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_APP_NAME', message: expect.stringMatching(/reserved/) });
    expect(t.store.apps.list()).toEqual([]);
    for (const name of ['ns1', 'dns', 'ns-app']) {
      expect((await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name } })).statusCode, name).toBe(201);
    }
  });

  it('rejects bad names in the URL path too', async () => {
    const t = await testApi();
    for (const raw of ['a%3Brm%20-rf%20%2F', '..%2Fx', 'x'.repeat(150)]) {
      const res = await t.app.inject({ method: 'GET', url: `/v1/apps/${raw}`, headers: t.auth });
      expect(res.statusCode, raw).toBe(400);
      expect(res.json().code).toBe('INVALID_APP_NAME');
    }
  });

  it('rejects a deploy branch that could be read as an option', async () => {
    const t = await testApi();
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web', deployBranch: '--upload-pack=x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_REF');
    expect(t.store.apps.list()).toEqual([]);
  });

  it('answers an oversized body with 413 BODY_TOO_LARGE and bad JSON with 400', async () => {
    const t = await testApi();
    const big = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: { ...t.auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x', pad: 'y'.repeat(2_000_000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('BODY_TOO_LARGE');
    const bad = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{"name":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
    expect(t.store.apps.list()).toEqual([]);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const t = await testApi();
    const res = await t.app.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/apps', '/v1/apps/{app}', '/v1/apps/{app}/config', '/v1/apps/{app}/rollback']));
    expect(doc.paths['/v1/apps'].post.requestBody.content['application/json'].schema.properties.name).toBeTruthy();
  });
});

describe('config, releases and rollback', () => {
  async function deployed() {
    const t = await testApi();
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
    await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { GREETING: 'hello-secret-value' } } });
    const d = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'first' });
    expect(d.state).toBe('healthy');
    return t;
  }

  it('never returns config values, only names and fingerprints', async () => {
    const t = await deployed();
    for (const url of ['/v1/apps/web/config', '/v1/apps/web', '/v1/apps/web/releases', '/v1/apps/web/deployments']) {
      const res = await t.app.inject({ method: 'GET', url, headers: t.auth });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('hello-secret-value');
    }
    const cfg = await t.app.inject({ method: 'GET', url: '/v1/apps/web/config', headers: t.auth });
    expect(cfg.json().items).toEqual([{ key: 'GREETING', fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/), updatedAt: expect.any(String) }]);
    const raw = t.store.db.prepare('SELECT value_sealed FROM config_vars').get() as { value_sealed: string };
    expect(raw.value_sealed).not.toContain('hello-secret-value');
  });

  it('shows fingerprints only to tokens that may change config (a fingerprint lets its holder test guesses)', async () => {
    const t = await deployed();
    const read = t.store.tokens.create('reader', 'read').token;
    const res = await t.app.inject({ method: 'GET', url: '/v1/apps/web/config', headers: { authorization: `Bearer ${read}` } });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual([{ key: 'GREETING', updatedAt: expect.any(String) }]);
    const deploy = t.store.tokens.create('deployer', 'deploy').token;
    const res2 = await t.app.inject({ method: 'GET', url: '/v1/apps/web/config', headers: { authorization: `Bearer ${deploy}` } });
    expect(res2.json().items).toEqual([{ key: 'GREETING', fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/), updatedAt: expect.any(String) }]);
  });

  it('rejects bad config keys with INVALID_CONFIG_KEY and changes nothing', async () => {
    const t = await deployed();
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { 'bad key': 'x', OK: 'y' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_CONFIG_KEY');
    expect(t.store.config.list('web').map((c) => c.key)).toEqual(['GREETING']);
  });

  it('a config change makes a new release that the target runs with the new env', async () => {
    const t = await deployed();
    const res = await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { GREETING: 'bonjour' } } });
    expect(res.statusCode).toBe(200);
    expect(res.json().release.version).toBe(2);
    expect(res.json().deployment.state).toBe('healthy');
    expect(t.target.runningSpec('web')?.env.GREETING).toBe('bonjour');
  });

  it('rollback restores the old image and the old config, as a new release', async () => {
    const t = await deployed();
    const v1 = t.store.releases.byVersion('web', 1);
    await t.app.inject({ method: 'PATCH', url: '/v1/apps/web/config', headers: t.auth, payload: { set: { GREETING: 'changed' }, unset: [] } });
    const d2 = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'second' });
    expect(d2.state).toBe('healthy');
    expect(t.target.runningSpec('web')?.image).not.toBe(v1.imageId);
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps/web/rollback', headers: t.auth, payload: { version: 1 } });
    expect(res.statusCode).toBe(201);
    expect(res.json().release).toMatchObject({ version: 4, image: v1.image, description: 'Rollback to v1' });
    expect(t.target.runningSpec('web')).toMatchObject({ image: v1.imageId, env: { GREETING: 'hello-secret-value' } });
    expect(t.store.config.values('web')).toEqual({ GREETING: 'hello-secret-value' });
    const missing = await t.app.inject({ method: 'POST', url: '/v1/apps/web/rollback', headers: t.auth, payload: { version: 99 } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('RELEASE_NOT_FOUND');
  });

  it('a failed build or failed health check leaves the previous release serving', async () => {
    const t = await deployed();
    const before = t.target.runningSpec('web')!.releaseId;
    t.builder.failNext = 'npm ERR! missing script: build';
    const failedBuild = await t.deployer.deploySource('web', { context: () => Readable.from(source()()), description: 'broken build' });
    expect(failedBuild.state).toBe('failed');
    expect(failedBuild.reason).toContain('missing script');
    expect(t.target.runningSpec('web')!.releaseId).toBe(before);
    t.target.failHealthFor(`sha256:${'0'.repeat(64)}`);
    const rel = t.store.releases.byVersion('web', 1);
    t.target.failHealthFor(rel.imageId);
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps/web/restart', headers: t.auth });
    expect(res.json().deployment.state).toBe('failed');
    expect(res.json().deployment.reason).toMatch(/health|did not answer/i);
    expect(t.target.runningSpec('web')!.releaseId).toBe(before);
    expect(t.store.apps.get('web').current_release_id).toBe(before);
    const deps = await t.app.inject({ method: 'GET', url: `/v1/apps/web/deployments/${failedBuild.id}`, headers: t.auth });
    expect(deps.json().events.map((e: { state: string }) => e.state)).toEqual(['queued', 'building', 'failed']);
    expect(deps.json().buildLog).toContain('Step 1/1');
  });

  it('scale changes the replica count the target runs', async () => {
    const t = await deployed();
    const res = await t.app.inject({ method: 'POST', url: '/v1/apps/web/scale', headers: t.auth, payload: { replicas: 3 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ replicas: 3, deployment: { state: 'healthy' } });
    expect((await t.target.endpoints('web')).length).toBe(3);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/apps/web/scale', headers: t.auth, payload: { replicas: 1000 } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('crash loops', () => {
  it('are reported on the app, and the reconciler does not restart them forever', async () => {
    const t = await testApi();
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'loopy' } });
    expect((await t.deployer.deploySource('loopy', { context: () => Readable.from(source()()), description: 'x' })).state).toBe('healthy');
    t.target.crash('loopy');
    const applied = t.target.switches.length;
    await t.reconcilerPass();
    expect(t.target.switches.length).toBe(applied);
    const res = await t.app.inject({ method: 'GET', url: '/v1/apps/loopy', headers: t.auth });
    expect(res.json().status).toEqual({ healthy: 0, replicas: 1, crashLooping: true });
  });
});
