// The SDK's domain calls against the real api: a domain of another app is refused (DOMAIN_TAKEN)
// unless moved, and a move lands it on the new app in one step.
import { describe, expect, it } from 'vitest';
import { liveApi } from './test-api.js';

const live = liveApi();

describe('addDomain', () => {
  it('refuses a domain another app has, and moves it with { move: true }', async () => {
    await live.client.createApp('alpha');
    await live.client.createApp('beta');
    expect((await live.client.addDomain('alpha', 'shop.example.com')).host).toBe('shop.example.com');
    await expect(live.client.addDomain('beta', 'shop.example.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    expect((await live.client.addDomain('beta', 'shop.example.com', { move: true })).host).toBe('shop.example.com');
    expect((await live.client.listDomains('beta')).items.map((d) => d.host)).toEqual(['beta.dream', 'shop.example.com']);
    expect((await live.client.listDomains('alpha')).items.map((d) => d.host)).toEqual(['alpha.dream']);
  });
});
