// DREAM_ACME_DIRECTORY switched between restarts (another CA, or staging ↔ production), against two
// real ACME servers (Pebble): the new directory gets its own account, and until it has issued a
// name, the certificate the previous CA issued (still valid, on disk) keeps being served — before,
// the name had none: every handshake failed for as long as the new CA did not issue (here: it wants
// an external account binding the settings lack).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { freePort, http01Responder, type Pebble, startPebble } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-switch-'));
const hmacKey = crypto.randomBytes(32).toString('base64url');
let before: Pebble;
let after: Pebble;
let httpServer: http.Server;
let tlsServer: tls.Server;
let current: Certificates | undefined;
let dnsPort: number;

async function start(p: Pebble, env: Record<string, string> = {}): Promise<Certificates> {
  await current?.close();
  const config = loadConfig({
    DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_ACME_DIRECTORY: p.directory, DREAM_DREAM_ACME_DIRECTORY: '',
    DREAM_ACME_CA_BUNDLE: p.caFile, DREAM_DNS_PORT: String(dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1', ...env,
  });
  // A failed order waits 100 ms, not minutes: the settings are fixed before the next start.
  current = await startCertificates({ config, manager: { tickMs: 3_600_000, backoff: { minMs: 100, maxMs: 100 } } });
  current.certs.ensure(['www.example.test']);
  await current.certs.tick();
  return current;
}

function handshake(ca: string): Promise<{ authorized: boolean; error?: string }> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: (tlsServer.address() as { port: number }).port, servername: 'www.example.test', ca }, () => {
      resolve({ authorized: sock.authorized, error: sock.authorizationError?.toString() });
      sock.end();
    });
    sock.on('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}

beforeAll(async () => {
  const httpPort = await freePort();
  dnsPort = await freePort();
  before = await startPebble(path.join(dir, 'before'), { httpPort, dnsPort });
  // Same HTTPS certificate for both, so one DREAM_ACME_CA_BUNDLE serves both directories.
  fs.mkdirSync(path.join(dir, 'after'));
  for (const f of ['pebble-cert.pem', 'pebble-key.pem']) fs.copyFileSync(path.join(dir, 'before', f), path.join(dir, 'after', f));
  after = await startPebble(path.join(dir, 'after'), { httpPort, dnsPort, config: { externalAccountBindingRequired: true, externalAccountMACKeys: { 'kid-1': hmacKey } } });
  httpServer = await http01Responder(httpPort, (token) => current?.certs.httpChallenge(token));
  tlsServer = tls.createServer({ SNICallback: (name, cb) => cb(null, current?.certs.secureContext(name)) }, (s) => s.end());
  tlsServer.on('tlsClientError', () => {});
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
}, 60_000);

afterAll(async () => {
  await current?.close();
  await before?.stop();
  await after?.stop();
  await new Promise((r) => (httpServer ? httpServer.close(r) : r(undefined)));
  await new Promise((r) => (tlsServer ? tlsServer.close(r) : r(undefined)));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('DREAM_ACME_DIRECTORY switched between restarts', () => {
  it('the previous CA\'s certificate is served until the new CA issues; the new CA\'s refusal is the name\'s status', async () => {
    await start(before);
    const [rootBefore, rootAfter] = [await before.root(), await after.root()];
    expect(await handshake(rootBefore)).toMatchObject({ authorized: true });

    const c = await start(after); // no EAB set: the new CA refuses to register the account
    expect(c.certs.status()[0]).toMatchObject({
      host: 'www.example.test', state: 'failing',
      error: "ACME server policy requires newAccount requests must include a value for the 'externalAccountBinding' field",
    });
    // A registration of its own, not the old account's URL. Polled: the refusal is the last request,
    // and Pebble's log line for it can reach our pipe after acme-client has the response.
    await expect.poll(() => after.accounts(), { timeout: 2_000 }).toBe(1);
    expect(await handshake(rootBefore)).toMatchObject({ authorized: true });

    await new Promise((r) => setTimeout(r, 150)); // the failed order's backoff
    await start(after, { DREAM_ACME_EAB_KID: 'kid-1', DREAM_ACME_EAB_HMAC: hmacKey });
    expect(current!.certs.status()[0]).toMatchObject({ state: 'issued', error: undefined });
    expect(await handshake(rootAfter)).toMatchObject({ authorized: true });
  }, 30_000);
});
