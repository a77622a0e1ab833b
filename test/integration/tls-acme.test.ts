// Certificates from a real ACME server (Pebble) through the whole tls stack: our .dream DNS answers
// Pebble's lookups, HTTP-01 is answered on our HTTP port, DNS-01 through the DNS for a wildcard.
// Until the proxy's HTTPS listener lands, a minimal tls.createServer with the manager's SNICallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { ManualClock } from '../../apps/proxy/src/tls/renewal.js';
import { withPebble } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-acme-'));
let root: string;
let tlsServer: tls.Server;
let tlsPort: number;
let current: Certificates | undefined;
const suite = withPebble(dir, () => current);
const clock = new ManualClock(Date.now());

function config() {
  return loadConfig({
    DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_ACME_DIRECTORY: suite.pebble.directory, DREAM_DREAM_ACME_DIRECTORY: suite.pebble.directory,
    DREAM_ACME_CA_BUNDLE: suite.pebble.caFile, DREAM_ACME_EMAIL: 'ops@example.test', DREAM_DNS_PORT: String(suite.dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1',
  });
}

async function start(): Promise<Certificates> {
  current = await startCertificates({ config: config(), manager: { clock, tickMs: 3_600_000, backoff: { minMs: 60_000, maxMs: 3600_000 } } });
  return current;
}

function handshake(servername: string): Promise<{ authorized: boolean; error?: string; fingerprint?: string; issuer?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: root }, () => {
      const peer = sock.getPeerCertificate();
      resolve({ authorized: sock.authorized, error: sock.authorizationError?.toString(), fingerprint: peer.fingerprint256, issuer: String(peer.issuer?.CN) });
      sock.end();
    });
    sock.on('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}

beforeAll(async () => {
  root = await suite.pebble.root();
  tlsServer = tls.createServer({ SNICallback: (name, cb) => cb(null, current?.certs.secureContext(name)) }, (s) => s.end('hi'));
  tlsServer.on('tlsClientError', () => {});
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  tlsPort = (tlsServer.address() as { port: number }).port;
}, 120_000);

afterAll(async () => {
  await new Promise((r) => (tlsServer ? tlsServer.close(r) : r(undefined)));
});

describe('certificates from an ACME server (Pebble)', () => {
  it('hello.dream and a custom domain get certificates whose chain verifies against Pebble\'s root', async () => {
    const c = await start();
    c.certs.ensure(['hello.dream', 'www.example.test']);
    await c.certs.tick();
    expect(c.certs.status().map((s) => [s.host, s.state, s.error])).toEqual([['hello.dream', 'issued', undefined], ['www.example.test', 'issued', undefined]]);
    for (const name of ['hello.dream', 'www.example.test']) {
      const r = await handshake(name);
      expect(r, name).toMatchObject({ authorized: true });
      expect(r.issuer).toMatch(/Pebble Intermediate/);
    }
    expect(c.certs.orders).toBe(2);
    const key = path.join(dir, 'data/tls/certs');
    const keyFiles = fs.readdirSync(key, { recursive: true }).map(String).filter((f) => f.endsWith('pair.json')); // certificate + key
    for (const f of keyFiles) expect(fs.statSync(path.join(key, f)).mode & 0o777).toBe(0o600);
    expect(keyFiles.length).toBe(2);
  }, 60_000);

  // (*.dream itself is orderable too, but TLS clients refuse a wildcard right under a TLD.)
  it('a wildcard certificate (*.hello.dream) through DNS-01 on the built-in DNS', async () => {
    const c = current!;
    c.certs.ensure(['hello.dream', 'www.example.test', '*.hello.dream']);
    await c.certs.tick();
    expect(c.certs.status().find((s) => s.host === '*.hello.dream')).toMatchObject({ state: 'issued' });
    expect(await handshake('api.hello.dream')).toMatchObject({ authorized: true });
    // ACME only accepts DNS-01 for wildcards: issuance proves the TXT record was served by our DNS.
  }, 60_000);

  it('restart: same certificates, no new order', async () => {
    const before = await handshake('hello.dream');
    const ordersBefore = suite.pebble.orders();
    await current!.close();
    const c = await start();
    c.certs.ensure(['hello.dream', 'www.example.test', '*.hello.dream']);
    await c.certs.tick();
    expect(c.certs.orders).toBe(0);
    expect(suite.pebble.orders()).toBe(ordersBefore);
    expect((await handshake('hello.dream')).fingerprint).toBe(before.fingerprint);
  }, 60_000);

  it('renews before expiry (injectable clock) with no failed handshake meanwhile', async () => {
    const c = current!;
    const before = await handshake('hello.dream');
    const notAfter = Date.parse(c.certs.status().find((s) => s.host === 'hello.dream')!.notAfter!);
    clock.set(notAfter - 86_400_000); // a day before expiry: well past the 1/3-left mark
    let failures = 0;
    let stop = false;
    const loop = (async () => { let n = 0; while (!stop) { if (!(await handshake('hello.dream')).authorized) failures++; n++; } return n; })();
    await c.certs.tick();
    stop = true;
    const handshakes = await loop;
    clock.set(Date.now());
    const after = await handshake('hello.dream');
    const why = JSON.stringify({ status: c.certs.status(), after, failures, pebble: suite.pebble.log().slice(-1500) });
    expect(after.authorized, why).toBe(true);
    expect(after.fingerprint, why).not.toBe(before.fingerprint);
    expect(failures, why).toBe(0);
    expect(handshakes).toBeGreaterThan(0);
    expect(c.certs.status().every((s) => s.state === 'issued')).toBe(true);
  }, 60_000);

  it('Pebble stopped: certificates keep serving, the order fails with a reason and is retried with backoff', async () => {
    const c = current!;
    await suite.pebble.stop();
    const notAfter = Date.parse(c.certs.status().find((s) => s.host === 'www.example.test')!.notAfter!);
    clock.set(notAfter - 86_400_000);
    const orders = c.certs.orders;
    await c.certs.tick();
    const st = c.certs.status().find((s) => s.host === 'www.example.test')!;
    expect(st.state).toBe('failing');
    expect(st.error).toMatch(/cannot reach the ACME server 127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(Date.parse(st.nextAttemptAt!) - clock.now()).toBe(60_000);
    expect((await handshake('www.example.test')).authorized).toBe(true);
    const attempted = c.certs.orders - orders;
    await c.certs.tick(); // still inside the backoff: nothing new
    expect(c.certs.orders - orders).toBe(attempted);
    clock.advance(60_000);
    await c.certs.tick(); // retried after 1 min; the next wait doubles
    expect(c.certs.orders - orders).toBe(attempted * 2);
    const again = c.certs.status().find((s) => s.host === 'www.example.test')!;
    expect(Date.parse(again.nextAttemptAt!) - clock.now()).toBe(120_000);
    expect((await handshake('www.example.test')).authorized).toBe(true);
  }, 60_000);
});
