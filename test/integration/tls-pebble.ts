// Pebble for the TLS tests: installed if missing, its own HTTPS certificate generated here, pointed
// at our .dream DNS (-dnsserver) and our HTTP port (httpPort), no random validation sleeps;
// withPebble() the suite set-up (before all / after all) the Pebble tests share.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll } from 'vitest';
import { ensureTestDeps, PEBBLE } from '../../scripts/ensure-test-deps.js';

x509.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);

import { freePort } from '../free-port.js';
export { freePort };

/** A self-signed certificate for 127.0.0.1/localhost: Pebble's own HTTPS (and our CA bundle). */
export async function selfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
  const c = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=pebble-test', keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }])],
  });
  const der = Buffer.from(await crypto.webcrypto.subtle.exportKey('pkcs8', keys.privateKey as crypto.webcrypto.CryptoKey));
  const cert = path.join(dir, 'pebble-cert.pem');
  const key = path.join(dir, 'pebble-key.pem');
  fs.writeFileSync(cert, c.toString('pem') + '\n');
  fs.writeFileSync(key, `-----BEGIN PRIVATE KEY-----\n${der.toString('base64')}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
  return { cert, key };
}

export interface Pebble { directory: string; port: number; caFile: string; keyFile: string; log: () => string; orders: () => number; accounts: () => number; root: () => Promise<string>; stop: () => Promise<void> }

/**
 * `port`: a restart on the same directory URL (Pebble forgets every account and certificate, as a
 * reset private CA would); its HTTPS certificate is kept, so the CA bundle stays valid.
 */
export async function startPebble(dir: string, o: {
  httpPort: number; dnsPort: number; port?: number;
  /** Pebble's environment over the tests' defaults (e.g. `PEBBLE_WFE_NONCEREJECT`, `PEBBLE_CHAIN_LENGTH`). */
  env?: Record<string, string>;
  /** Fields of Pebble's config over the defaults (e.g. `externalAccountMACKeys`, `domainBlocklist`). */
  config?: Record<string, unknown>;
}): Promise<Pebble> {
  await ensureTestDeps();
  fs.mkdirSync(dir, { recursive: true });
  const kept = { cert: path.join(dir, 'pebble-cert.pem'), key: path.join(dir, 'pebble-key.pem') };
  const { cert, key } = fs.existsSync(kept.cert) ? kept : await selfSigned(dir);
  const [port, mgmt] = [o.port ?? await freePort(), await freePort()];
  const config = path.join(dir, 'pebble.json');
  fs.writeFileSync(config, JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: cert, privateKey: key,
    httpPort: o.httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false, ...o.config,
  } }));
  let out = '';
  const child: ChildProcess = spawn(PEBBLE, ['-config', config, '-dnsserver', `127.0.0.1:${o.dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const ca = fs.readFileSync(cert, 'utf8');
  const get = (url: string) => new Promise<string>((resolve, reject) => {
    https.get(url, { ca }, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => (res.statusCode === 200 ? resolve(b) : reject(new Error(`${url}: ${res.statusCode}`)))); }).on('error', reject);
  });
  const directory = `https://127.0.0.1:${port}/dir`;
  for (let i = 0; ; i++) {
    try { await get(directory); break; } catch (e) {
      if (i > 100 || child.exitCode !== null) throw new Error(`pebble did not start: ${(e as Error).message}\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    directory, port, caFile: cert, keyFile: key, log: () => out,
    // Pebble logs `Added order "<id>" to the db` once per new order, and each newAccount request.
    orders: () => (out.match(/Added order "/g) ?? []).length,
    accounts: () => (out.match(/POST \/sign-me-up /g) ?? []).length,
    root: () => get(`https://127.0.0.1:${mgmt}/roots/0`),
    stop: () => new Promise<void>((resolve) => { if (child.exitCode !== null || child.signalCode !== null) return resolve(); child.once('exit', () => resolve()); child.kill('SIGTERM'); }),
  };
}

/**
 * What Pebble validates HTTP-01 against (its `httpPort`): the proxy's port 80 without the proxy,
 * answering `/.well-known/acme-challenge/<token>` with what `answer` gives, 404 otherwise.
 */
export async function http01Responder(port: number, answer: (token: string) => string | undefined): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '');
    const body = m ? answer(m[1]!) : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/plain' }).end(body ?? 'not found');
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

export interface PebbleSuite {
  readonly pebble: Pebble;
  /** The HTTP-01 port Pebble validates against (answered by http01Responder) and the DNS port it asks. */
  readonly httpPort: number;
  readonly dnsPort: number;
}

/**
 * The suite set-up the Pebble tests share: before all, Pebble in `<dir>/pebble` with free HTTP-01
 * and DNS ports and an HTTP-01 responder answering from `current()`'s certificates; after all,
 * `current()` closed, both stopped and `dir` removed. `config`: Pebble's config over the defaults.
 */
export function withPebble(dir: string, current: () => { certs: { httpChallenge(token: string): string | undefined }; close(): Promise<void> } | undefined, o: { config?: Record<string, unknown> } = {}): PebbleSuite {
  let suite: PebbleSuite | undefined;
  let responder: http.Server | undefined;
  beforeAll(async () => {
    const [httpPort, dnsPort] = [await freePort(), await freePort()];
    const pebble = await startPebble(path.join(dir, 'pebble'), { httpPort, dnsPort, config: o.config });
    suite = { pebble, httpPort, dnsPort };
    responder = await http01Responder(httpPort, (token) => current()?.certs.httpChallenge(token));
  }, 120_000);
  afterAll(async () => {
    await current()?.close();
    await suite?.pebble.stop();
    await new Promise((r) => (responder ? responder.close(r) : r(undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const started = () => { if (!suite) throw new Error('withPebble: used before its beforeAll ran'); return suite; };
  return { get pebble() { return started().pebble; }, get httpPort() { return started().httpPort; }, get dnsPort() { return started().dnsPort; } };
}
