import { describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

async function withApps() {
  const t = await testApi();
  for (const name of ['hello', 'other']) {
    const r = await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name } });
    expect(r.statusCode).toBe(201);
  }
  return t;
}

const hostsOf = (t: Awaited<ReturnType<typeof testApi>>, app: string) => t.routes.snapshot().routes.find((r) => r.app === app)?.hosts;

describe('domains API', () => {
  it('adds, lists and removes a custom domain; the route table follows at once', async () => {
    const t = await withApps();
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]); // as the deployer does
    const add = await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host: 'www.example.com' } });
    expect(add.statusCode).toBe(201);
    expect(add.json()).toMatchObject({ host: 'www.example.com', kind: 'custom', certificate: null });
    expect(hostsOf(t, 'hello')).toEqual(['hello.dream', 'www.example.com']);
    // A later deploy/reconcile sets the route again with only the automatic names: the domain stays.
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5001 }]);
    expect(hostsOf(t, 'hello')).toEqual(['hello.dream', 'www.example.com']);
    const list = await t.app.inject({ method: 'GET', url: '/v1/apps/hello/domains', headers: t.auth });
    expect(list.json().items.map((d: { host: string; kind: string }) => `${d.kind}:${d.host}`)).toEqual(['automatic:hello.dream', 'custom:www.example.com']);
    const del = await t.app.inject({ method: 'DELETE', url: '/v1/apps/hello/domains/www.example.com', headers: t.auth });
    expect(del.statusCode).toBe(204);
    expect(hostsOf(t, 'hello')).toEqual(['hello.dream']);
    const again = await t.app.inject({ method: 'DELETE', url: '/v1/apps/hello/domains/www.example.com', headers: t.auth });
    expect(again.json().code).toBe('DOMAIN_NOT_FOUND');
  });

  it('move: true takes a domain from the app that has it in one step; the proxies never see it on neither app; needs access to both apps', async () => {
    const t = await withApps();
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]);
    t.routes.set('other', ['other.dream'], [{ host: '127.0.0.1', port: 5001 }]);
    await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host: 'shop.example.com' } });
    const taken = await t.app.inject({ method: 'POST', url: '/v1/apps/other/domains', headers: t.auth, payload: { host: 'shop.example.com' } });
    expect(taken.json().message).toContain('dream domains add other shop.example.com --move');
    // A token for `other` alone may not take a name away from `hello`.
    const only = t.store.tokens.create('only-other', 'deploy', ['other']).token;
    const refused = await t.app.inject({ method: 'POST', url: '/v1/apps/other/domains', headers: { authorization: `Bearer ${only}` }, payload: { host: 'shop.example.com', move: true } });
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect(hostsOf(t, 'hello')).toEqual(['hello.dream', 'shop.example.com']);
    // A proxy's held poll is answered once, with the name already on its new app.
    const since = t.routes.snapshot().version;
    const polled = t.routes.poll('proxy-x', since, 5000);
    const moved = await t.app.inject({ method: 'POST', url: '/v1/apps/other/domains', headers: t.auth, payload: { host: 'shop.example.com', move: true } });
    expect(moved.statusCode).toBe(201);
    expect(moved.json()).toMatchObject({ host: 'shop.example.com', kind: 'custom', movedFrom: 'hello' });
    const seen = await polled;
    expect(seen.routes.map((r) => [r.app, r.hosts])).toEqual([['hello', ['hello.dream']], ['other', ['other.dream', 'shop.example.com']]]);
    expect(t.store.domains.owner('shop.example.com')).toBe('other');
    // Moving it where it already is, or a name nobody has, is an ordinary add.
    const again = await t.app.inject({ method: 'POST', url: '/v1/apps/other/domains', headers: t.auth, payload: { host: 'shop.example.com', move: true } });
    expect(again.json()).not.toHaveProperty('movedFrom');
    const fresh = await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host: 'new.example.com', move: true } });
    expect(fresh.statusCode).toBe(201);
    expect(hostsOf(t, 'hello')).toEqual(['hello.dream', 'new.example.com']);
  });

  it('a domain belongs to one app: DOMAIN_TAKEN', async () => {
    const t = await withApps();
    await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host: 'shop.example.com' } });
    const r = await t.app.inject({ method: 'POST', url: '/v1/apps/other/domains', headers: t.auth, payload: { host: 'shop.example.com' } });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ code: 'DOMAIN_TAKEN' });
    expect(t.store.domains.owner('shop.example.com')).toBe('hello');
  });

  it.each([
    ['a..example.com', 'DOMAIN_INVALID'],
    ['*.example.com', 'DOMAIN_INVALID'],
    ['WWW.Example.com', 'DOMAIN_INVALID'],
    [`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(55)}.com`, 'DOMAIN_INVALID'],
    ['127.0.0.1', 'DOMAIN_INVALID'],
    ['[::1]', 'DOMAIN_INVALID'],
    ['::1', 'DOMAIN_INVALID'],
    ['localhost', 'DOMAIN_INVALID'],
    ['-bad.example.com', 'DOMAIN_INVALID'],
    ['other.dream', 'DOMAIN_TAKEN'],
    ['hello.dream', 'DOMAIN_RESERVED'],
    ['new.dream', 'DOMAIN_RESERVED'],
  ])('rejects %j with %s; nothing stored, routed or ordered', async (host, code) => {
    const t = await withApps();
    t.routes.set('hello', ['hello.dream'], [{ host: '127.0.0.1', port: 5000 }]);
    const before = t.routes.snapshot().version;
    const r = await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host } });
    expect(r.json().code).toBe(code);
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(t.store.domains.hostsOf('hello')).toEqual([]);
    expect(t.routes.snapshot().version).toBe(before);
  });

  it('shows the certificate status proxies report (internal token only)', async () => {
    const t = await withApps();
    await t.app.inject({ method: 'POST', url: '/v1/apps/hello/domains', headers: t.auth, payload: { host: 'www.example.com' } });
    const denied = await t.app.inject({ method: 'POST', url: '/v1/internal/certs/status', headers: t.auth, payload: { proxy: 'p1', certs: [] } });
    expect(denied.statusCode).toBe(401);
    const ok = await t.app.inject({
      method: 'POST', url: '/v1/internal/certs/status', headers: { authorization: `Bearer ${t.internalToken}` },
      payload: { proxy: 'p1', certs: [
        { host: 'hello.dream', state: 'issued', issuer: 'DreamNet built-in CA', notAfter: '2030-01-01T00:00:00.000Z' },
        { host: 'www.example.com', state: 'failing', issuer: 'acme-v02.api.letsencrypt.org', error: 'urn:ietf:params:acme:error:dns: NXDOMAIN looking up A for www.example.com', nextAttemptAt: '2030-01-01T00:02:00.000Z' },
      ] },
    });
    expect(ok.statusCode).toBe(204);
    const list = (await t.app.inject({ method: 'GET', url: '/v1/apps/hello/domains', headers: t.auth })).json();
    expect(list.items).toMatchObject([
      { host: 'hello.dream', certificate: { state: 'issued', notAfter: '2030-01-01T00:00:00.000Z' } },
      { host: 'www.example.com', certificate: { state: 'failing', error: expect.stringContaining('NXDOMAIN') } },
    ]);
  });
});
