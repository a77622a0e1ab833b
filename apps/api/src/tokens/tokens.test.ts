import { describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

describe('scoped tokens', () => {
  it('create shows the secret once; list never does; the token works with its scope and apps; revoke stops it', async () => {
    const t = await testApi();
    await t.app.inject({ method: 'POST', url: '/v1/apps', headers: t.auth, payload: { name: 'web' } });
    const created = await t.app.inject({ method: 'POST', url: '/v1/tokens', headers: t.auth, payload: { name: 'ci deploy', scope: 'deploy', apps: ['web'] } });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    expect(token).toMatch(/^dream_/);
    expect(created.json()).toMatchObject({ name: 'ci deploy', scope: 'deploy', apps: ['web'], lastUsedAt: null });
    expect(t.store.db.prepare('SELECT hash FROM tokens WHERE id = ?').get(id)).not.toMatchObject({ hash: token });

    const h = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/web', headers: h })).statusCode).toBe(200);
    const list = await t.app.inject({ method: 'GET', url: '/v1/tokens', headers: t.auth });
    expect(list.body).not.toContain(token);
    const mine = list.json().items.find((x: { id: string }) => x.id === id);
    expect(mine.lastUsedAt).toMatch(/^\d{4}-/);
    expect(mine).not.toHaveProperty('hash');
    // A deploy token may not manage tokens; an app-limited admin may not either.
    expect((await t.app.inject({ method: 'GET', url: '/v1/tokens', headers: h })).statusCode).toBe(403);
    const limitedAdmin = t.store.tokens.create('la', 'admin', ['web']).token;
    expect((await t.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${limitedAdmin}` }, payload: { name: 'x', scope: 'admin' } })).statusCode).toBe(403);

    expect((await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: t.auth })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/web', headers: h })).statusCode).toBe(401);
    const again = await t.app.inject({ method: 'DELETE', url: `/v1/tokens/${id}`, headers: t.auth });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('TOKEN_NOT_FOUND');
  });

  it('refuses unknown scopes and bad app names', async () => {
    const t = await testApi();
    expect((await t.app.inject({ method: 'POST', url: '/v1/tokens', headers: t.auth, payload: { name: 'x', scope: 'root' } })).statusCode).toBe(400);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/tokens', headers: t.auth, payload: { name: 'x', scope: 'read', apps: ['Bad Name'] } });
    expect(bad.json().code).toBe('INVALID_APP_NAME');
  });
});

describe('auth failure rate limit', () => {
  it('after N invalid tokens from one address every request from it gets 429, other addresses are unaffected', async () => {
    const t = await testApi({ DREAM_AUTH_FAILURES_PER_MINUTE: '5' });
    const from = (ip: string, token: string) => t.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: `Bearer ${token}` }, remoteAddress: ip });
    for (let i = 0; i < 5; i++) expect((await from('10.0.0.1', `wrong${i}`)).statusCode).toBe(401);
    const blocked = await from('10.0.0.1', t.admin);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('RATE_LIMITED');
    expect((await from('10.0.0.2', t.admin)).statusCode).toBe(200);
    // No credentials at all (how git starts a push) is not a failure.
    for (let i = 0; i < 10; i++) await t.app.inject({ method: 'GET', url: '/v1/apps', remoteAddress: '10.0.0.3' });
    expect((await from('10.0.0.3', t.admin)).statusCode).toBe(200);
  });

  it('X-Forwarded-For counts only from a trusted proxy', async () => {
    const untrusted = await testApi({ DREAM_AUTH_FAILURES_PER_MINUTE: '2' });
    const send = (t: typeof untrusted, xff: string) => t.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: 'Bearer wrong', 'x-forwarded-for': xff }, remoteAddress: '127.0.0.1' });
    // Rotating X-Forwarded-For does not escape the limit when the peer is not trusted.
    for (const xff of ['1.1.1.1', '2.2.2.2']) await send(untrusted, xff);
    expect((await send(untrusted, '3.3.3.3')).statusCode).toBe(429);
    const trusted = await testApi({ DREAM_AUTH_FAILURES_PER_MINUTE: '2', DREAM_TRUSTED_PROXIES: '127.0.0.1' });
    for (const xff of ['1.1.1.1', '1.1.1.1']) await send(trusted, xff);
    expect((await send(trusted, '1.1.1.1')).statusCode).toBe(429);
    expect((await send(trusted, '2.2.2.2')).statusCode).toBe(401); // another client behind the proxy
  });
});
