// Renewal timing and account life against a real ACME server (Pebble). Pebble 2.4 (Debian) offers
// no ACME Renewal Information, so the ARI test puts a small front in front of it that serves
// Pebble's directory plus a `renewalInfo` resource whose window the test moves; orders, challenges
// and certificates stay Pebble's own.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeLib } from '../../apps/proxy/src/tls/acme-lib.js';
import { ariCertId } from '../../apps/proxy/src/tls/ari.js';
import { ManualClock } from '../../apps/proxy/src/tls/renewal.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { freePort, startPebble, type Pebble, http01Responder } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-renewal-'));
let pebble: Pebble;
let root: string;
let httpPort: number;
let dnsPort: number;
let current: Certificates | undefined;
const servers: Array<http.Server | tls.Server> = [];
let tlsPort: number;
let ariFront: { directory: string; window: { start: number; end: number }; asked: string[] };
const newOrders: Array<Record<string, unknown>> = [];
const HOUR = 3600_000;

async function start(directory: string, data: string, clock: ManualClock): Promise<Certificates> {
  await current?.close();
  current = await startCertificates({
    config: loadConfig({ DREAM_DATA_DIR: path.join(dir, data), DREAM_ACME_DIRECTORY: directory, DREAM_ACME_CA_BUNDLE: pebble.caFile, DREAM_DNS_PORT: String(dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1' }),
    manager: { clock, tickMs: HOUR },
  });
  return current;
}

function handshake(servername: string): Promise<{ authorized: boolean; fingerprint?: string; pem?: string; validFrom?: string; validTo?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: root }, () => {
      const p = sock.getPeerCertificate();
      resolve({ authorized: sock.authorized, fingerprint: p.fingerprint256, pem: new x509.X509Certificate(p.raw).toString('pem'), validFrom: p.valid_from, validTo: p.valid_to });
      sock.end();
    });
    sock.on('error', () => resolve({ authorized: false }));
  });
}

const listen = async <T extends http.Server | tls.Server>(s: T, port = 0): Promise<number> => {
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
};

beforeAll(async () => {
  [httpPort, dnsPort] = [await freePort(), await freePort()];
  pebble = await startPebble(path.join(dir, 'pebble'), { httpPort, dnsPort });
  root = await pebble.root();
  servers.push(await http01Responder(httpPort, (token) => current?.certs.httpChallenge(token)));
  const front = https.createServer({ cert: fs.readFileSync(pebble.caFile), key: fs.readFileSync(pebble.keyFile) }, (req, res) => {
    if (req.url === '/dir') {
      https.get(pebble.directory, { ca: fs.readFileSync(pebble.caFile) }, (up) => {
        let b = ''; up.on('data', (d) => { b += d; });
        up.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...JSON.parse(b), renewalInfo: `https://127.0.0.1:${frontPort}/ari` })));
      });
      return;
    }
    ariFront.asked.push(req.url!.replace('/ari/', ''));
    const w = ariFront.window;
    res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3600' }).end(JSON.stringify({ suggestedWindow: { start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() } }));
  });
  const frontPort = await listen(front);
  ariFront = { directory: `https://127.0.0.1:${frontPort}/dir`, window: { start: 0, end: 0 }, asked: [] };
  const srv = tls.createServer({ SNICallback: (name, cb) => cb(null, current?.certs.secureContext(name)) }, (s) => s.end());
  srv.on('tlsClientError', () => {});
  tlsPort = await listen(srv);
  // What acme-client sends as newOrder (the JWS payload is plain base64url JSON).
  (await acmeLib()).axios.interceptors.request.use((cfg) => {
    if (cfg.method === 'post' && /\/order-plz$/.test(cfg.url ?? '')) {
      const jws = (typeof cfg.data === 'string' ? JSON.parse(cfg.data) : cfg.data) as { payload: string };
      newOrders.push(JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<string, unknown>);
    }
    return cfg;
  });
}, 120_000);

afterAll(async () => {
  await current?.close();
  await pebble?.stop();
  for (const s of servers) await new Promise((r) => s.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('renewal timing and the ACME account (Pebble)', () => {
  it('without ARI at the CA: renews once a third of the lifetime is left, not before', async () => {
    const clock = new ManualClock(Date.now());
    const c = await start(pebble.directory, 'third', clock);
    c.certs.ensure(['third.example.test']);
    await c.certs.tick();
    const first = await handshake('third.example.test');
    expect(first.authorized).toBe(true);
    const [nb, na] = [Date.parse(first.validFrom!), Date.parse(first.validTo!)];
    const due = na - (na - nb) / 3;
    const orders = pebble.orders();
    clock.set(due - HOUR);
    await c.certs.tick();
    expect(pebble.orders()).toBe(orders);
    clock.set(due + HOUR);
    await c.certs.tick();
    expect(pebble.orders()).toBe(orders + 1);
    expect((await handshake('third.example.test')).fingerprint).not.toBe(first.fingerprint);
    expect(c.certs.status()).toMatchObject([{ host: 'third.example.test', state: 'issued' }]);
  }, 60_000);

  it('with ARI: the CA\'s window is asked again as its Retry-After says; when it moves to now, the certificate is renewed, naming the one it replaces', async () => {
    const clock = new ManualClock(Date.now());
    ariFront.window = { start: Date.now() + 1000 * 86_400_000, end: Date.now() + 1001 * 86_400_000 };
    const c = await start(ariFront.directory, 'ari', clock);
    c.certs.ensure(['ari.example.test']);
    await c.certs.tick();
    const first = await handshake('ari.example.test');
    expect(first.authorized).toBe(true);
    const orders = pebble.orders();
    clock.advance(HOUR / 2);
    await c.certs.tick(); // inside Retry-After, window far away: nothing
    expect(pebble.orders()).toBe(orders);
    ariFront.window = { start: Date.now() - 2 * HOUR, end: Date.now() - HOUR }; // e.g. ahead of a revocation
    clock.advance(HOUR);
    await c.certs.tick();
    expect(pebble.orders()).toBe(orders + 1);
    const second = await handshake('ari.example.test');
    expect(second.authorized).toBe(true);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(newOrders.at(-1)).toMatchObject({ replaces: ariCertId(first.pem!) });
    expect(ariFront.asked).toContain(ariCertId(first.pem!));
    ariFront.window = { start: Date.now() + 1000 * 86_400_000, end: Date.now() + 1001 * 86_400_000 };
    clock.advance(2 * HOUR);
    await c.certs.tick(); // the new certificate has its own (far) window: no further order
    expect(pebble.orders()).toBe(orders + 1);
    expect(c.certs.status()).toMatchObject([{ host: 'ari.example.test', state: 'issued' }]);
  }, 60_000);

  it('a restart reuses the account; a CA that forgot it (reset) gets it registered again and orders go on', async () => {
    const clock = new ManualClock(Date.now());
    let c = await start(pebble.directory, 'account', clock);
    c.certs.ensure(['one.example.test']);
    await c.certs.tick();
    const accounts = pebble.accounts();
    c = await start(pebble.directory, 'account', clock);
    c.certs.ensure(['one.example.test', 'two.example.test']);
    await c.certs.tick();
    expect(c.certs.status().map((s) => [s.state, s.error])).toEqual([['issued', undefined], ['issued', undefined]]);
    expect(pebble.accounts()).toBe(accounts);

    await pebble.stop();
    pebble = await startPebble(path.join(dir, 'pebble'), { httpPort, dnsPort, port: pebble.port });
    root = await pebble.root();
    c.certs.ensure(['one.example.test', 'two.example.test', 'three.example.test']);
    await c.certs.tick();
    const three = c.certs.status().find((s) => s.host === 'three.example.test');
    expect(three, JSON.stringify(three)).toMatchObject({ state: 'issued' });
    expect((await handshake('three.example.test')).authorized).toBe(true);
    expect(pebble.accounts()).toBe(1);
  }, 60_000);
});
