// Client addresses and IPv6 at the edge, with real sockets: what apps get as X-Forwarded-For from a
// dual-stack listener (DREAM_HTTP_HOST=::) on every request path, and main.ts refusing address
// settings it cannot use (DREAM_TRUSTED_PROXIES, DREAM_EDGE_ADDRESS) with one catalogued fatal line.
import { Resolver } from 'node:dns/promises';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type AccessEntry, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { NO_CERTIFICATES } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, spawnMain, startFakeApi, startUpstream, wsPing } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_ipv6_test';
const HOST = 'v6.dream';

/** A link-local address of this machine that accepts connections, with its zone (fe80::…%eth0), or null. */
async function linkLocal(): Promise<string | null> {
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv6' || a.internal || !a.address.startsWith('fe80:')) continue;
      const zoned = `${a.address}%${name}`;
      const s = net.createServer((c) => c.destroy());
      const ok = await new Promise<boolean>((r) => {
        s.once('error', () => r(false));
        s.listen(0, zoned, () => {
          const c = net.connect((s.address() as net.AddressInfo).port, zoned, () => { c.destroy(); r(true); });
          c.once('error', () => r(false));
        });
      });
      s.close();
      if (ok) return zoned;
    }
  }
  return null;
}

describe('X-Forwarded-For from a dual-stack listener (DREAM_HTTP_HOST=::)', () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof startFakeApi>>;
  let app: Awaited<ReturnType<typeof startUpstream>>;
  let proxy: ProxyHandle;
  let ca: Buffer;
  let zoned: string | null;
  const access: AccessEntry[] = [];

  beforeAll(async () => {
    zoned = await linkLocal();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-ipv6-'));
    const m = await makeTestCerts(dir, [HOST]);
    ca = m.ca;
    const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
    const certs = { ...NO_CERTIFICATES, secureContext: (n: string) => (n === HOST ? sc : undefined), hasCertificate: () => false, ensure: () => {} };
    app = await startUpstream('a');
    api = await startFakeApi(TOKEN, [{ app: 'v6', hosts: [HOST], endpoints: [app.endpoint] }]);
    // ::1 stands for a load balancer in front of the edge (its X-Forwarded-For is believed).
    const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_TRUSTED_PROXIES: '::1' });
    proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '::', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: (e) => access.push(e) });
    await proxy.routes.synced;
  });
  afterAll(async () => {
    await proxy?.close();
    await app?.close();
    await api?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What the app got as X-Forwarded-For for a request from `from` over each path the proxy has. */
  async function xffOnEveryPath(from: string, headers: Record<string, string> = {}): Promise<Record<string, string | undefined>> {
    // URLs cannot hold a zone (fe80::1%eth0): the clients dial `from` themselves.
    const dial = (secure: boolean, port: number, ALPNProtocols?: string[]) =>
      secure ? tls.connect({ host: from, port, servername: HOST, ca, ALPNProtocols }) : net.connect({ host: from, port });
    const viaHttp1 = (secure: boolean, chunked: boolean) => new Promise<string | undefined>((resolve, reject) => {
      const r = (secure ? https : http).request({
        host: from, port: secure ? proxy.httpsPort! : proxy.port, method: chunked ? 'POST' : 'GET', path: '/',
        headers: { host: HOST, ...headers }, servername: HOST, ca, agent: false,
      }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve((JSON.parse(b) as { headers: Record<string, string> }).headers['x-forwarded-for']));
      });
      r.on('error', reject);
      // A chunked upload is outside the fast path's subset: node:http serves it.
      if (chunked) { r.write('x'); r.end('y'); } else r.end();
    });
    const viaH2 = () => new Promise<string | undefined>((resolve, reject) => {
      const s = http2.connect(`https://${HOST}:${proxy.httpsPort}`, { createConnection: () => dial(true, proxy.httpsPort!, ['h2']) });
      s.on('error', reject);
      const st = s.request({ ':authority': HOST, ':path': '/', ...headers });
      let b = '';
      st.on('data', (c) => (b += c));
      st.on('end', () => { s.close(); resolve((JSON.parse(b) as { headers: Record<string, string> }).headers['x-forwarded-for']); });
      st.on('error', reject);
    });
    // startUpstream's WebSocket echo ends with the X-Forwarded-For its upgrade request carried.
    const viaWs = async (secure: boolean) => {
      const port = secure ? proxy.httpsPort! : proxy.port;
      return (await wsPing(`${secure ? 'wss' : 'ws'}://${HOST}:${port}/ws`, { createConnection: () => dial(secure, port) })).split(':ping:')[1];
    };
    return {
      fast: await viaHttp1(false, false), 'node:http': await viaHttp1(false, true), 'https/1.1': await viaHttp1(true, false),
      h2: await viaH2(), ws: await viaWs(false), wss: await viaWs(true),
    };
  }
  const everywhere = (v: string) => ({ fast: v, 'node:http': v, 'https/1.1': v, h2: v, ws: v, wss: v });

  it('an IPv4 client (node: ::ffff:127.0.0.1) is 127.0.0.1 and an IPv6 one ::1, on every path', async () => {
    expect(await xffOnEveryPath('127.0.0.1')).toEqual(everywhere('127.0.0.1'));
    expect(await xffOnEveryPath('::1')).toEqual(everywhere('::1'));
  });

  /**
   * The access log's `client` of the requests logged since `from` (index into `access`), once `n`
   * are in: the plain requests in order, and the upgrades (logged when their connection closes) apart.
   */
  async function loggedClients(since: number, n: number): Promise<{ requests: string[]; upgrades: string[] }> {
    for (let i = 0; i < 100 && access.length < since + n; i++) await new Promise((r) => setTimeout(r, 20));
    const logged = access.slice(since);
    return { requests: logged.filter((e) => e.status !== 101).map((e) => e.client), upgrades: logged.filter((e) => e.status === 101).map((e) => e.client).sort() };
  }

  it('the access log names the client as apps get it: ::ffff:127.0.0.1 as 127.0.0.1, ::1 as ::1', async () => {
    const since = access.length;
    await xffOnEveryPath('127.0.0.1');
    await xffOnEveryPath('::1');
    // The fast path, node:http, HTTPS/1.1 and HTTP/2 requests, and the ws and wss upgrades.
    expect(await loggedClients(since, 12)).toEqual({ requests: [...Array(4).fill('127.0.0.1'), ...Array(4).fill('::1')], upgrades: ['127.0.0.1', '127.0.0.1', '::1', '::1'] });
  });

  it('behind a trusted proxy the access log names the right-most address it did not add itself, not what a client prepended', async () => {
    // The client sent "X-Forwarded-For: 6.6.6.6" (a spoof) to the load balancer (::1), which appended
    // the client's real address, 203.0.113.7; a second trusted hop (::1 again) comes after it.
    const since = access.length;
    await xffOnEveryPath('::1', { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, ::1' });
    expect((await loggedClients(since, 6)).requests).toEqual(Array(4).fill('203.0.113.7'));
  });

  it('a link-local client is its address without the zone node adds (fe80::…%eth0 names the proxy\'s interface)', async (t) => {
    if (!zoned) t.skip();
    expect(await xffOnEveryPath(zoned!)).toEqual(everywhere(zoned!.split('%')[0]!));
  });
});

/** main.ts with `env`: its exit code and output, or null once it is serving (it took the setting). */
async function startWith(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = spawnMain({
    DREAM_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-ipv6-main-')), DREAM_API_URL: `http://127.0.0.1:${await freePort()}`,
    DREAM_INTERNAL_TOKEN: TOKEN, DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(await freePort()), DREAM_HTTPS_PORT: '0', DREAM_DNS_PORT: '0', ...env,
  });
  const serving = await p.seen(/proxy listening/, 20_000).then(() => true, () => false);
  if (serving) { p.child.kill('SIGKILL'); await p.exited; return { code: null, out: p.out() }; }
  return { code: await p.exited, out: p.out() };
}

describe('main.ts with an address setting it cannot use', () => {
  it.each([
    // Read as /0 before: every IPv4 client could set X-Forwarded-For.
    ['DREAM_TRUSTED_PROXIES', '10.0.0.0/', '1', 'the prefix length after "/" must be a number 0-32'],
    ['DREAM_TRUSTED_PROXIES', '10.0.0.0/', '2', 'the prefix length after "/" must be a number 0-32'],
    // A stack trace before, and with 2 workers re-forked forever.
    ['DREAM_TRUSTED_PROXIES', '10.0.0.0/8x', '2', 'the prefix length after "/" must be a number 0-32'],
    ['DREAM_TRUSTED_PROXIES', 'fe80::1%eth0', '1', 'a zone id'],
    // Published as AAAA fe80::fe10 before.
    ['DREAM_EDGE_ADDRESS', 'fe80::1%eth0', '1', 'a zone id'],
    // No A or AAAA record at all before.
    ['DREAM_EDGE_ADDRESS', '[2001:db8::1]', '1', 'without brackets'],
  ])('%s=%s stops start-up with SETTING_INVALID, exit 2 (%s worker(s))', async (name, value, workers, why) => {
    const { code, out } = await startWith({ DREAM_PROXY_WORKERS: workers, [name]: value });
    expect(code, out).toBe(2);
    const line = JSON.parse(out.trim().split('\n').find((l) => l.includes('SETTING_INVALID'))!) as { level: number; code: string; msg: string };
    expect(line).toMatchObject({ level: 60, code: 'SETTING_INVALID' });
    expect(line.msg).toContain(`${name}=${JSON.stringify(value)} is not valid`);
    expect(line.msg).toContain(why);
    expect(out).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe('main.ts with IPv6 host settings', () => {
  let app: Awaited<ReturnType<typeof startUpstream>>;
  let api: http.Server;
  let apiPort: number;
  const procs: ReturnType<typeof spawnMain>[] = [];

  beforeAll(async () => {
    app = await startUpstream('a');
    // The routes part of the api contract, listening on :: as DREAM_API_HOST=:: makes the api do.
    api = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && u.pathname === '/v1/internal/routes') {
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 1, routes: [{ app: 'v6', hosts: [HOST], endpoints: [app.endpoint] }] }));
        if (u.searchParams.get('since') !== '1') return answer();
        const t = setTimeout(answer, Number(u.searchParams.get('wait') ?? '1') * 1000);
        res.on('close', () => clearTimeout(t));
        return;
      }
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => api.listen(0, '::', () => r()));
    apiPort = (api.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const p of procs) { p.child.kill('SIGKILL'); await p.exited; }
    api.closeAllConnections();
    await new Promise((r) => api.close(r));
    await app.close();
  });

  const main = async (env: Record<string, string>) => {
    const p = spawnMain({
      DREAM_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-ipv6-main-')), DREAM_INTERNAL_TOKEN: TOKEN,
      DREAM_HTTP_PORT: String(await freePort()), DREAM_HTTPS_PORT: '0', DREAM_DNS_PORT: '0', DREAM_PROXY_WORKERS: '1', ...env,
    });
    procs.push(p);
    return p;
  };
  /** Status of GET / for HOST from `from` to `port`, asked until 200 or `ms` pass (the table arrives by poll). */
  const routed = async (from: string, port: number, ms = 5000): Promise<number | string> => {
    const until = Date.now() + ms;
    for (;;) {
      const status = await new Promise<number | string>((resolve) => {
        http.get({ host: from, port, path: '/', headers: { host: HOST }, agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); })
          .on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      });
      if (status === 200 || Date.now() > until) return status;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('DREAM_API_HOST=:: without DREAM_API_URL: the proxy reaches the api (the default URL was http://:::<port>)', async () => {
    const port = await freePort();
    const p = await main({ DREAM_API_HOST: '::', DREAM_API_PORT: String(apiPort), DREAM_API_URL: '', DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(port) });
    await p.seen(/proxy listening/);
    expect(await routed('127.0.0.1', port), p.out().slice(-2000)).toBe(200);
  }, 30_000);

  it('DREAM_HTTP_HOST=[::] and DREAM_DNS_HOST=[::] (nginx\'s spelling) listen on :: for IPv4 and IPv6 clients', async () => {
    const [port, dnsPort] = [await freePort(), await freePort()];
    const p = await main({
      DREAM_API_URL: `http://[::1]:${apiPort}`, DREAM_HTTP_HOST: '[::]', DREAM_HTTP_PORT: String(port), DREAM_HTTPS_PORT: String(await freePort()),
      DREAM_DNS_HOST: '[::]', DREAM_DNS_PORT: String(dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1, ::1',
      // The built-in CA may issue the name between the two requests (then 308 to HTTPS): not what this asks.
      DREAM_HTTPS_REDIRECT: 'off',
    });
    await p.seen(/proxy listening/);
    expect([await routed('127.0.0.1', port), await routed('::1', port)]).toEqual([200, 200]);
    const ask = (from: string, type: 'A' | 'AAAA') => {
      const r = new Resolver({ timeout: 2000, tries: 2 });
      r.setServers([from.includes(':') ? `[${from}]:${dnsPort}` : `${from}:${dnsPort}`]);
      return type === 'A' ? r.resolve4(HOST) : r.resolve6(HOST);
    };
    expect([await ask('127.0.0.1', 'A'), await ask('::1', 'AAAA')]).toEqual([['127.0.0.1'], ['::1']]);
  }, 30_000);
});
