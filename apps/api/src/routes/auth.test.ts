import { describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

const PUBLIC = new Set(['GET /healthz', 'GET /v1/openapi.json']);
const HOOK = new Set(['POST /v1/internal/git/plan', 'POST /v1/internal/git/deploy']);

function concrete(url: string) {
  return url.replace(':app', 'hello').replace(':repo', 'hello.git').replace(':id', 'dep_0123456789abcdef');
}

describe('every route is authenticated', () => {
  it('enumerates registered routes and each rejects a missing or wrong token with 401 UNAUTHENTICATED', async () => {
    const t = await testApi();
    await t.app.ready();
    const routes = t.app.routeList.filter((r) => !r.url.startsWith('/documentation'));
    expect(routes.length).toBeGreaterThan(15);
    for (const r of routes) {
      const key = `${r.method} ${r.url}`;
      if (PUBLIC.has(key)) continue;
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic ' + Buffer.from('x:wrong').toString('base64') }]) {
        const res = await t.app.inject({ method: r.method as 'GET', url: concrete(r.url), headers: { ...headers, 'content-type': 'application/json' }, payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}' });
        expect(res.statusCode, key).toBe(401);
        expect(res.json().code, key).toBe('UNAUTHENTICATED');
      }
    }
    expect(t.store.apps.list()).toEqual([]);
  });

  it('internal routes refuse a user token; user routes refuse the internal token', async () => {
    const t = await testApi();
    const a = await t.app.inject({ method: 'GET', url: '/v1/internal/routes?proxy=p1', headers: t.auth });
    expect(a.statusCode).toBe(401);
    const b = await t.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: `Bearer ${t.internalToken}` } });
    expect(b.statusCode).toBe(401);
    const c = await t.app.inject({ method: 'GET', url: '/v1/internal/routes?proxy=p1', headers: { authorization: `Bearer ${t.internalToken}` } });
    expect(c.statusCode).toBe(200);
  });

  it('git hook routes need the one-time push token', async () => {
    const t = await testApi();
    for (const url of HOOK) {
      const [method, path] = url.split(' ');
      const res = await t.app.inject({ method: method as 'POST', url: path + (path!.endsWith('deploy') ? `?ref=refs/heads/main&sha=${'a'.repeat(40)}` : ''), headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{"refs":[]}' });
      expect(res.statusCode).toBe(401);
    }
  });

  it('a git request without credentials gets a Basic challenge so git asks for the token', async () => {
    const t = await testApi();
    const res = await t.app.inject({ method: 'GET', url: '/git/hello.git/info/refs?service=git-receive-pack' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="DreamNet"/);
  });

  it('a token limited to one app may not touch another', async () => {
    const t = await testApi();
    t.store.apps.create('one', 'main');
    t.store.apps.create('two', 'main');
    const scoped = t.store.tokens.create('ci', 'deploy', ['one']).token;
    const h = { authorization: `Bearer ${scoped}` };
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/one', headers: h })).statusCode).toBe(200);
    const other = await t.app.inject({ method: 'GET', url: '/v1/apps/two', headers: h });
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('FORBIDDEN');
    const list = await t.app.inject({ method: 'GET', url: '/v1/apps', headers: h });
    expect(list.json().items.map((a: { name: string }) => a.name)).toEqual(['one']);
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/one', headers: h });
    expect(del.statusCode).toBe(403);
  });
});
