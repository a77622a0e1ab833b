// Socket routes (logs tail, shell, run) authenticate in their own hook; wrong tokens and tickets
// there count against the address like on every other route, and a blocked address is refused there
// too — else guessing could go on through the WebSocket routes without limit. Real upgrades.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { testApi } from '../test-support.js';

type T = Awaited<ReturnType<typeof testApi>>;
let open: T | undefined;
afterEach(async () => { await open?.app.close(); open = undefined; });

function upgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => { ws.close(); resolve(101); });
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0); });
    ws.on('error', reject);
  });
}

async function listening() {
  const t = (open = await testApi({ DREAM_AUTH_FAILURES_PER_MINUTE: '3' }));
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  t.store.apps.create('web', 'main');
  return { t, base: `ws://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
}

describe('auth failures on socket routes', () => {
  it('wrong tokens and tickets on the socket routes are counted: then REST and sockets answer 429', async () => {
    const { t, base } = await listening();
    expect(await upgrade(`${base}/v1/apps/web/logs`, t.auth)).toBe(101);
    expect(await upgrade(`${base}/v1/apps/web/logs`, { authorization: 'Bearer dream_guess1' })).toBe(401);
    expect(await upgrade(`${base}/v1/apps/web/shell`, { authorization: 'Bearer dream_guess2' })).toBe(401);
    expect(await upgrade(`${base}/v1/apps/web/logs?ticket=tkt_guess3`)).toBe(401);
    expect(await upgrade(`${base}/v1/apps/web/logs`, t.auth)).toBe(429);
    const rest = await t.app.inject({ method: 'GET', url: '/v1/apps', headers: t.auth });
    expect(rest.statusCode).toBe(429);
    expect(rest.json().code).toBe('RATE_LIMITED');
  });

  it('an address blocked by failures elsewhere is refused on the socket routes too', async () => {
    const { t, base } = await listening();
    for (let i = 0; i < 3; i++) expect((await t.app.inject({ method: 'GET', url: '/v1/apps', headers: { authorization: `Bearer dream_guess${i}` } })).statusCode).toBe(401);
    expect(await upgrade(`${base}/v1/apps/web/logs`, t.auth)).toBe(429);
  });

  it('an upgrade without any credentials is not a failure (like git, a client may ask first)', async () => {
    const { t, base } = await listening();
    for (let i = 0; i < 5; i++) expect(await upgrade(`${base}/v1/apps/web/logs`)).toBe(401);
    expect(await upgrade(`${base}/v1/apps/web/logs`, t.auth)).toBe(101);
  });
});
