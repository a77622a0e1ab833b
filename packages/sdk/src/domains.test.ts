// The SDK's domain calls against the real api: a domain of another app is refused (DOMAIN_TAKEN)
// unless moved, and a move lands it on the new app in one step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../../apps/api/src/test-support.js';
import { DreamNetClient } from './client.js';

let t: Awaited<ReturnType<typeof testApi>>;
let client: DreamNetClient;
beforeAll(async () => {
  t = await testApi();
  client = new DreamNetClient({ url: await t.app.listen({ port: 0, host: '127.0.0.1' }), token: t.admin });
});
afterAll(() => t?.app.close());

describe('addDomain', () => {
  it('refuses a domain another app has, and moves it with { move: true }', async () => {
    await client.createApp('alpha');
    await client.createApp('beta');
    expect((await client.addDomain('alpha', 'shop.example.com')).host).toBe('shop.example.com');
    await expect(client.addDomain('beta', 'shop.example.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    expect((await client.addDomain('beta', 'shop.example.com', { move: true })).host).toBe('shop.example.com');
    expect((await client.listDomains('beta')).items.map((d) => d.host)).toEqual(['beta.dream', 'shop.example.com']);
    expect((await client.listDomains('alpha')).items.map((d) => d.host)).toEqual(['alpha.dream']);
  });
});
