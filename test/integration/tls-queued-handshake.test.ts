// A proxy with many new `.dream` names to issue (a first start with many apps): the built-in CA's
// orders run a few at a time (tls/order-slots.ts), first come first served, so the last name queued
// is issued seconds later. A client asking for that name now must not wait behind all the others:
// its handshake waits (tls/handshake-wait.ts, 5 s) and its order jumps the queue. The real proxy
// (startProxy + startCertificates, built-in CA) polling the fake api, real TLS handshakes with SNI.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { startFakeApi, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_queued_handshake';
/** Enough names that the last one queued is issued well after the handshake wait (~5-10 ms each). */
const N = 1500;

let dataDir: string;
let up: Awaited<ReturnType<typeof startUpstream>>;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let certs: Certificates;
let proxy: ProxyHandle;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-queued-'));
  up = await startUpstream('up');
  const routes = Array.from({ length: N }, (_, i) => ({ app: `app${i}`, hosts: [`app${i}.dream`], endpoints: [up.endpoint] }));
  api = await startFakeApi(TOKEN, routes);
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_DREAM_ACME_DIRECTORY: '' });
  (config as { acmeDirectory: string }).acmeDirectory = '';
  const log = pino({ level: 'silent' });
  certs = await startCertificates({ config, log });
  proxy = await startProxy({ config, token: TOKEN, log, certs: certs.certs, port: 0, host: '127.0.0.1', httpsPort: 0, pollWaitSeconds: 1, accessLog: null });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await certs?.close();
  await api?.close();
  await up?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const issued = () => certs.certs.status().filter((s) => s.state === 'issued').length;

/** A handshake as a browser makes it: SNI, the chain verified against the platform's root. */
function handshake(name: string): Promise<{ authorized: boolean; error?: string; san?: string; ms: number; issuedThen: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: proxy.httpsPort!, servername: name, ca: certs.ca!.rootPem }, () => {
      resolve({ authorized: s.authorized, error: s.authorizationError?.toString(), san: new crypto.X509Certificate(s.getPeerCertificate().raw).subjectAltName, ms: Date.now() - t0, issuedThen: issued() });
      s.destroy();
    });
    s.on('error', (e) => resolve({ authorized: false, error: e.message, ms: Date.now() - t0, issuedThen: issued() }));
  });
}

describe(`${N} .dream names queued on the built-in CA`, () => {
  it('a handshake for the last name queued gets its certificate within the wait, ahead of the names queued before it', async () => {
    await proxy.routes.synced;
    expect(certs.certs.status().length).toBe(N);
    const last = `app${N - 1}.dream`;
    expect(certs.certs.hasCertificate(last)).toBe(false);
    // Before, it waited its turn behind every name queued before it: the handshake failed after 5 s.
    const h = await handshake(last);
    expect(h).toMatchObject({ authorized: true, san: `DNS:${last}` });
    expect(h.ms).toBeLessThan(2000);
    expect(h.issuedThen).toBeLessThan(N / 2); // it went first, not last
    // Another name asked for meanwhile jumps the queue too.
    const other = `app${N - 2}.dream`;
    expect(await handshake(other)).toMatchObject({ authorized: true, san: `DNS:${other}` });
  }, 60_000);
});
