// An `Upgrade: websocket` request to a route that is not a socket route gets its HTTP answer and then
// its connection closed by the api: node has detached such sockets from the HTTP server, so nothing
// else ever would — an unauthenticated client could pin one socket per request, and close() hung.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { testApi } from '../test-support.js';

const opened: net.Socket[] = [];
afterEach(() => { for (const s of opened.splice(0)) s.destroy(); });

/** Sends an upgrade request; resolves with the status line once the server has closed the connection. */
function upgradeAndWaitForClose(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`));
    opened.push(s);
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => resolve(got.split('\r\n')[0]!));
  });
}

describe('upgrade requests to non-socket routes', () => {
  it('are answered and then closed, and the api still closes', async () => {
    const t = await testApi();
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (t.app.server.address() as AddressInfo).port;
    expect(await upgradeAndWaitForClose(port, '/v1/apps')).toBe('HTTP/1.1 401 Unauthorized');
    expect(await upgradeAndWaitForClose(port, '/healthz')).toBe('HTTP/1.1 200 OK');
    expect(await upgradeAndWaitForClose(port, '/no/such/route')).toBe('HTTP/1.1 404 Not Found');
    expect(await upgradeAndWaitForClose(port, '/v1/apps/web/logs')).toBe('HTTP/1.1 401 Unauthorized'); // a socket route's refusal, as before
    await t.app.close();
  });
});
