// The proxy closes a client's idle keep-alive connection after 5 s (node's keepAliveTimeout). A
// client that sends its next request as that FIN is on its way gets ECONNRESET, and a POST cannot
// be retried. node's own server says `Keep-Alive: timeout=5` on every keep-alive response so that
// clients (node's http.Agent, undici) retire the connection first; the fast path must say it too.
// Found by CI: proxy-routing's last request on http.globalAgent (keepAlive, 5 s socket timeout)
// reused a connection idle for 5 s and was reset.
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTlsProxy, startUpstream, tlsRequest } from './proxy-helpers.js';

const TOKEN = 'int_client-keepalive-token';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let up: Awaited<ReturnType<typeof startUpstream>>;
let env: Awaited<ReturnType<typeof startTlsProxy>>;

beforeAll(async () => {
  up = await startUpstream('K');
  env = await startTlsProxy(TOKEN, [{ app: 'k', hosts: ['k.dream'], endpoints: [up.endpoint] }], ['k.dream']);
});
afterAll(async () => {
  await env?.close();
  await up?.close();
});

// A keep-alive agent of its own per request (agent: false would ask for Connection: close).
async function plain(host: string, path = '/', o: Parameters<typeof request>[3] = {}) {
  const agent = new http.Agent({ keepAlive: true });
  try { return await request(env.proxy.port, host, path, { agent, ...o }); } finally { agent.destroy(); }
}

describe('the proxy announces its own keep-alive timeout to clients', () => {
  it('on every kind of HTTP/1.1 answer that keeps the connection', async () => {
    // Fast path: an app's Content-Length answer and a chunked one (/big streams without a length).
    expect((await plain('k.dream')).headers['keep-alive']).toBe('timeout=5');
    expect((await plain('k.dream', '/big?mb=1')).headers['keep-alive']).toBe('timeout=5');
    // The proxy's own page (unknown host) on the fast path.
    const page = await plain('nobody.dream');
    expect(page.status).toBe(404);
    expect(page.headers['keep-alive']).toBe('timeout=5');
    // node:http's path (a chunked upload is handed off).
    const handed = await plain('k.dream', '/upload', { method: 'POST', body: 'abc', headers: { 'transfer-encoding': 'chunked' } });
    expect(handed.status).toBe(200);
    expect(handed.headers['keep-alive']).toBe('timeout=5');
    // HTTP/1.1 over TLS (the fast path on the TLS listener).
    const tlsAgent = new https.Agent({ keepAlive: true });
    const secure = await tlsRequest(env.proxy.httpsPort!, 'k.dream', '/', { ca: env.ca, agent: tlsAgent, ALPNProtocols: ['http/1.1'] }).finally(() => tlsAgent.destroy());
    expect(secure.status).toBe(200);
    expect(secure.headers['keep-alive']).toBe('timeout=5');
  });

  it('says none on an answer that closes the connection', async () => {
    const r = await plain('k.dream', '/', { headers: { connection: 'close' } });
    expect(r.headers.connection).toBe('close');
    expect(r.headers['keep-alive']).toBeUndefined();
  });

  // What the announcement is for: node's agent (http.globalAgent's options) gives up a connection
  // idle for 4 s instead of racing the proxy's close at 5 s with its next request.
  for (const tls of [false, true]) {
    it(`node's default agent retires an idle connection before the proxy closes it (${tls ? 'HTTPS' : 'HTTP'})`, async () => {
      const opts = { keepAlive: true, scheduling: 'lifo' as const, timeout: 5000 };
      const agent = tls ? new https.Agent({ ...opts, ca: env.ca }) : new http.Agent(opts);
      const ports: number[] = [];
      const one = () => new Promise<void>((resolve, reject) => {
        const o = { host: '127.0.0.1', port: tls ? env.proxy.httpsPort! : env.proxy.port, path: '/', headers: { host: 'k.dream' }, servername: 'k.dream', agent };
        const req = (tls ? https : http).request(o, (res) => {
          ports.push(res.socket.localPort!);
          res.resume();
          res.on('end', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
      try {
        await one();
        await one();
        await sleep(4300);
        await one();
      } finally {
        agent.destroy();
      }
      // Reused within the timeout, a new connection after 4.3 s idle (the proxy would close at 5 s).
      expect(ports[1]).toBe(ports[0]);
      expect(ports[2]).not.toBe(ports[0]);
    }, 15_000);
  }
});
