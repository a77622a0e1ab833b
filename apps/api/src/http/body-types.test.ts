// A JSON body carries its own types: a wrong one is the client's mistake and gets VALIDATION_FAILED
// naming the field, not a silent conversion ({"replicas": "2"} → 2, {"move": "true"} → true,
// {"unset": "K"} → ["K"]). Query strings only have strings, so they are still converted.
import { describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

type Api = Awaited<ReturnType<typeof testApi>>;
const json = (t: Api, method: 'POST' | 'PATCH' | 'PUT', url: string, payload: unknown, headers = t.auth) =>
  t.app.inject({ method, url, headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

describe('JSON bodies are validated as sent (no type coercion)', () => {
  // [method, url, body, the field, the type the schema wants]
  const cases: Array<['POST' | 'PATCH' | 'PUT', string, unknown, string, string]> = [
    ['POST', '/v1/apps', { name: 7 }, 'name', 'string'],
    ['POST', '/v1/apps', { name: true }, 'name', 'string'],
    ['PATCH', '/v1/apps/web', { deployBranch: 7 }, 'deployBranch', 'string'],
    ['PUT', '/v1/apps/web/hooks', { repoUrl: 7 }, 'repoUrl', 'string'],
    ['PATCH', '/v1/apps/web/config', { set: { PORT: 8080 } }, 'set/PORT', 'string'],
    ['POST', '/v1/apps/web/domains', { host: 'www.example.com', move: 'true' }, 'move', 'boolean'],
    ['POST', '/v1/apps/web/scale', { replicas: '2' }, 'replicas', 'integer'],
    ['POST', '/v1/apps/web/rollback', { version: '1' }, 'version', 'integer'],
    ['PATCH', '/v1/apps/web/config', { unset: 'K' }, 'unset', 'array'],
    ['POST', '/v1/tokens', { name: 'ci', scope: 'read', apps: 'web' }, 'apps', 'array'],
  ];

  it.each(cases)('%s %s %j → 400 VALIDATION_FAILED naming %s (must be %s); nothing changes', async (method, url, payload, field, type) => {
    const t = await testApi();
    expect((await json(t, 'POST', '/v1/apps', { name: 'web' })).statusCode).toBe(201);
    const before = (await t.app.inject({ method: 'GET', url: '/v1/apps/web', headers: t.auth })).json();
    const res = await json(t, method, url, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(res.json().message).toBe(`Invalid body/${field}: must be ${type}.`);
    expect(t.store.apps.list().map((a) => a.name)).toEqual(['web']);
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/web', headers: t.auth })).json()).toEqual(before);
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/web/config', headers: t.auth })).json().items).toEqual([]);
  });

  it('"" still means off for a webhook secret or notification URL and unset for a health-check path, as null does', async () => {
    const t = await testApi();
    expect((await json(t, 'POST', '/v1/apps', { name: 'web' })).statusCode).toBe(201);
    const on = await json(t, 'PUT', '/v1/apps/web/hooks', { secret: 's'.repeat(16), notifyUrl: 'https://example.com/n', notifySecret: 'n'.repeat(16) });
    expect([on.statusCode, on.json().webhook.enabled, on.json().notifications.enabled]).toEqual([200, true, true]);
    const off = await json(t, 'PUT', '/v1/apps/web/hooks', { secret: '', notifyUrl: '' });
    expect([off.statusCode, off.json().webhook.enabled, off.json().notifications]).toEqual([200, false, { enabled: false, url: null }]);
    expect((await json(t, 'PATCH', '/v1/apps/web', { healthCheckPath: '/up' })).json().healthCheckPath).toBe('/up');
    const unset = await json(t, 'PATCH', '/v1/apps/web', { healthCheckPath: '' });
    expect([unset.statusCode, unset.json().healthCheckPath]).toEqual([200, null]);
  });

  it('every body field taking a string or null takes "" too, says so in /v1/openapi.json, and stores it as null', async () => {
    const t = await testApi();
    const doc = (await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })).json();
    const nullableText: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const props = op.requestBody?.content?.['application/json']?.schema?.properties ?? {};
        // OpenAPI 3.0 says null as {nullable: true, enum: [null]} and "" as {type: "string", enum: [""]}.
        for (const [field, s] of Object.entries(props as Record<string, { anyOf?: Array<{ type?: string; nullable?: boolean; enum?: unknown[] }> }>)) {
          const branches = s.anyOf ?? [];
          if (!branches.some((b) => b.nullable) || !branches.some((b) => b.type === 'string' && !b.enum)) continue;
          nullableText.push(`${method.toUpperCase()} ${path} ${field}`);
          expect(branches, `${method} ${path} ${field}`).toContainEqual(expect.objectContaining({ type: 'string', enum: [''] }));
        }
      }
    }
    expect(nullableText.sort()).toEqual(['PATCH /v1/apps/{app} healthCheckPath', ...['notifySecret', 'notifyUrl', 'repoUrl', 'secret'].map((f) => `PUT /v1/apps/{app}/hooks ${f}`)]);
    expect((await json(t, 'POST', '/v1/apps', { name: 'web' })).statusCode).toBe(201);
    expect((await json(t, 'PUT', '/v1/apps/web/hooks', { repoUrl: 'https://example.com/web.git' })).json().webhook.repoUrl).toBe('https://example.com/web.git');
    const unset = await json(t, 'PUT', '/v1/apps/web/hooks', { repoUrl: '' });
    expect([unset.statusCode, unset.json().webhook.repoUrl]).toEqual([200, null]);
  });

  it('the internal routes (proxies call them) refuse {"proxy": 7} and {"version": "3"}', async () => {
    const t = await testApi();
    const internal = { authorization: `Bearer ${t.internalToken}` };
    for (const [url, payload, field] of [['/v1/internal/routes/leave', { proxy: 7 }, 'proxy'], ['/v1/internal/routes/ack', { proxy: 'p1', version: '3' }, 'version']] as const) {
      const res = await json(t, 'POST', url, payload, internal);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(`body/${field}`) });
    }
    expect((await json(t, 'POST', '/v1/internal/routes/ack', { proxy: 'p1', version: 0 }, internal)).statusCode).toBe(204);
  });

  it('the same values with their JSON types are accepted', async () => {
    const t = await testApi();
    expect((await json(t, 'POST', '/v1/apps', { name: 'web' })).statusCode).toBe(201);
    expect((await json(t, 'PATCH', '/v1/apps/web/config', { set: { PORT: '8080' }, unset: ['K'] })).statusCode).toBe(200);
    const scaled = await json(t, 'POST', '/v1/apps/web/scale', { replicas: 2 });
    expect(scaled.statusCode, scaled.body).toBe(200);
    expect(scaled.json().replicas).toBe(2);
    const added = await json(t, 'POST', '/v1/apps/web/domains', { host: 'www.example.com', move: true });
    expect(added.statusCode, added.body).toBe(201);
  });
});

describe('query strings are still converted (they have no types)', () => {
  it('?limit=2 is the integer 2; ?limit=five is VALIDATION_FAILED naming limit', async () => {
    const t = await testApi();
    for (const name of ['a1', 'a2', 'a3']) await json(t, 'POST', '/v1/apps', { name });
    const page = await t.app.inject({ method: 'GET', url: '/v1/apps?limit=2', headers: t.auth });
    expect(page.statusCode, page.body).toBe(200);
    expect(page.json().items).toHaveLength(2);
    const bad = await t.app.inject({ method: 'GET', url: '/v1/apps?limit=five', headers: t.auth });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: 'Invalid querystring/limit: must be integer.' });
  });

  it('a proxy\'s long poll ?since=N&wait=1 holds for about a second and answers the table', async () => {
    const t = await testApi();
    const internal = { authorization: `Bearer ${t.internalToken}` };
    const first = await t.app.inject({ method: 'GET', url: '/v1/internal/routes?proxy=p1&since=0&wait=0', headers: internal });
    expect(first.statusCode, first.body).toBe(200);
    const { version } = first.json() as { version: number };
    const t0 = Date.now();
    const held = await t.app.inject({ method: 'GET', url: `/v1/internal/routes?proxy=p1&since=${version}&wait=1`, headers: internal });
    expect(held.statusCode, held.body).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
