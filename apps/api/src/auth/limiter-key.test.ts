// What one "client address" is for the auth-failure limit (DREAM_AUTH_FAILURES_PER_MINUTE, default
// 20): an IPv6 client owns a whole /64 and can send from any address in it, so the /64 is one client;
// an IPv4-mapped IPv6 address (how a dual-stack listener sees IPv4) is its IPv4 address. Real
// requests through buildApp() with the default limit, on REST, git, webhook and socket routes.
import { afterEach, describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

type T = Awaited<ReturnType<typeof testApi>>;
let open: T | undefined;
afterEach(async () => { await open?.app.close(); open = undefined; });

async function api(env: Record<string, string> = {}) {
  // 20 is the setting's default; written out so the test says what it counts to.
  open = await testApi({ DREAM_AUTH_FAILURES_PER_MINUTE: '20', ...env });
  open.store.apps.create('web', 'main');
  return open;
}
const wrong = (t: T, ip: string, url = '/v1/apps') =>
  t.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer dream_guess' }, remoteAddress: ip });
const admin = (t: T, ip: string) => t.app.inject({ method: 'GET', url: '/v1/apps', headers: t.auth, remoteAddress: ip });
const inSlash64 = (prefix: string, i: number) => `${prefix}:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}:${i.toString(16)}:1`;

describe('auth failure limit: the client is the IPv6 /64, an IPv4 address, or an IPv4-mapped address as IPv4', () => {
  it('20 wrong tokens from 20 different addresses of one /64: the 21st address gets 429, valid token or not', async () => {
    const t = await api();
    for (let i = 1; i <= 20; i++) expect((await wrong(t, inSlash64('2001:db8:1:2', i))).statusCode).toBe(401);
    const next = await wrong(t, inSlash64('2001:db8:1:2', 21));
    expect(next.statusCode).toBe(429);
    expect(next.json().code).toBe('RATE_LIMITED');
    // Also compressed spellings of the same /64, and the admin token from it.
    expect((await admin(t, '2001:db8:1:2::ffff')).statusCode).toBe(429);
    expect((await admin(t, '2001:0db8:0001:0002:abcd:0:0:1')).statusCode).toBe(429);
    // The neighbouring /64 (another customer of the same provider) is not affected.
    expect((await admin(t, '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('two /64s do not share a budget', async () => {
    const t = await api();
    for (let i = 1; i <= 20; i++) {
      expect((await wrong(t, inSlash64('2001:db8:a:1', i))).statusCode).toBe(401);
      expect((await wrong(t, inSlash64('2001:db8:a:2', i))).statusCode).toBe(401);
    }
    expect((await wrong(t, '2001:db8:a:1::99')).statusCode).toBe(429);
    expect((await wrong(t, '2001:db8:a:2::99')).statusCode).toBe(429);
    expect((await admin(t, '2001:db8:a:3::1')).statusCode).toBe(200);
  });

  it('::ffff:10.0.0.1 and 10.0.0.1 are one client; 10.0.0.2 is another', async () => {
    const t = await api();
    for (let i = 0; i < 20; i++) expect((await wrong(t, i % 2 ? '::ffff:10.0.0.1' : '10.0.0.1')).statusCode).toBe(401);
    expect((await admin(t, '10.0.0.1')).statusCode).toBe(429);
    expect((await admin(t, '::ffff:10.0.0.1')).statusCode).toBe(429);
    expect((await admin(t, '::ffff:a00:1')).statusCode).toBe(429); // the same address in hex
    expect((await admin(t, '10.0.0.2')).statusCode).toBe(200);
    expect((await admin(t, '::ffff:10.0.0.2')).statusCode).toBe(200);
  });

  it('git, webhook and socket routes count against the same /64 as REST', async () => {
    const t = await api();
    const basic = 'Basic ' + Buffer.from('git:dream_guess').toString('base64');
    for (let i = 1; i <= 5; i++) {
      expect((await t.app.inject({ method: 'GET', url: '/git/web.git/info/refs?service=git-receive-pack', headers: { authorization: basic }, remoteAddress: inSlash64('2001:db8:5:5', i) })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'POST', url: '/v1/apps/web/webhooks/github', headers: { 'content-type': 'application/json' }, payload: '{}', remoteAddress: inSlash64('2001:db8:5:5', 100 + i) })).statusCode).toBe(401);
      expect((await wrong(t, inSlash64('2001:db8:5:5', 200 + i), '/v1/apps/web/logs')).statusCode).toBe(401);
      expect((await wrong(t, inSlash64('2001:db8:5:5', 300 + i))).statusCode).toBe(401);
    }
    expect((await admin(t, '2001:db8:5:5::1')).statusCode).toBe(429);
    expect((await t.app.inject({ method: 'GET', url: '/v1/apps/web/logs', headers: t.auth, remoteAddress: '2001:db8:5:5::2' })).statusCode).toBe(429);
  });

  it('behind a trusted proxy the forwarded client address is keyed the same way', async () => {
    const t = await api({ DREAM_TRUSTED_PROXIES: '127.0.0.1' });
    const via = (xff: string, auth = 'Bearer dream_guess') =>
      t.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: auth, 'x-forwarded-for': xff }, remoteAddress: '127.0.0.1' });
    for (let i = 1; i <= 20; i++) expect((await via(inSlash64('2001:db8:7:7', i))).statusCode).toBe(401);
    expect((await via('2001:db8:7:7::abc')).statusCode).toBe(429);
    // Other clients behind the same proxy keep their own budget.
    expect((await via('2001:db8:7:8::1', t.auth.authorization)).statusCode).toBe(200);
    for (let i = 0; i < 20; i++) expect((await via(i % 2 ? '::ffff:192.0.2.9' : '192.0.2.9')).statusCode).toBe(401);
    expect((await via('192.0.2.9', t.auth.authorization)).statusCode).toBe(429);
    expect((await via('192.0.2.10', t.auth.authorization)).statusCode).toBe(200);
  });
});
