// A proxy (startProxy, in this process) polling a fake api: plain HTTP, or with an HTTPS listener and
// openssl-made test certificates.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy } from '../../../apps/proxy/src/index.js';
import { startFakeApi, type TestRoute } from './fake-api.js';
import { closeServer, listen } from './servers.js';

/** A fake api serving `routes` and a plain-HTTP proxy polling it, on 127.0.0.1 (`env`: more DREAM_* settings); close() removes both and the data dir. */
export async function startPlainProxy(token: string, routes: TestRoute[], env: Record<string, string> = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'));
  const api = await startFakeApi(token, routes);
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', ...env });
  const proxy = await startProxy({ config, token, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', pollWaitSeconds: 1 });
  await proxy.ready;
  return { api, proxy, close: async () => { await proxy.close(); await api.close(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

/** `app` listening on 127.0.0.1 as the one replica of `up.dream`, behind startPlainProxy() (`env`: more settings); close() stops both. */
export async function startPlainProxyFor(token: string, app: http.Server, env: Record<string, string> = {}) {
  const port = await listen(app);
  const edge = await startPlainProxy(token, [{ app: 'up', hosts: ['up.dream'], endpoints: [{ host: '127.0.0.1', port }] }], env);
  return { ...edge, close: async () => { await edge.close(); await closeServer(app); } };
}

/** A CA and one leaf for `names` made with openssl (argv only, no shell), in `dir`. */
export async function makeTestCerts(dir: string, names: string[]): Promise<{ key: Buffer; cert: Buffer; ca: Buffer }> {
  const ssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  await ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=proxy test CA');
  await ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  await ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '2', '-extfile', 'ext.cnf');
  const r = (f: string) => fs.readFileSync(path.join(dir, f));
  return { key: r('leaf.key'), cert: r('leaf.pem'), ca: r('ca.pem') };
}

/**
 * startPlainProxy() with an HTTPS listener too: one certificate (from a test CA, `ca`) for every
 * name in `names`, served by SNI. close() removes the proxy, the api and the data dir.
 */
export async function startTlsProxy(token: string, routes: TestRoute[], names: string[], opts: { accessLog?: (e: import('../../../apps/proxy/src/access-log.js').AccessEntry) => void; h2IdleMs?: number; log?: Parameters<typeof startProxy>[0]['log'] } = {}) {
  const tls = await import('node:tls');
  const { NO_CERTIFICATES } = await import('../../../apps/proxy/src/tls/types.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-tls-test-'));
  const m = await makeTestCerts(dataDir, names);
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs = { ...NO_CERTIFICATES, secureContext: (name: string) => (names.includes(name) ? sc : undefined), hasCertificate: () => false, ensure: () => {} };
  const api = await startFakeApi(token, routes);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dataDir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  const proxy = await startProxy({ config, token, log: opts.log ?? pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1, accessLog: opts.accessLog, h2IdleMs: opts.h2IdleMs });
  await proxy.routes.synced;
  return { api, proxy, ca: m.ca, close: async () => { await proxy.close(); await api.close(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}
