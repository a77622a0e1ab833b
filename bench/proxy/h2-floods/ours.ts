// Our proxy for the flood bench, started as the integration tests start it (startProxy, a fake api
// with one route rr.dream → the app's port in argv, openssl-made certificates): prints
// { httpsPort, ca, pid } once it serves. `--src DIR` loads the proxy from another checkout (e.g. a
// `git archive` of an older commit) to compare. Logs each HTTP/2 session's end on stderr.
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { makeTestCerts } from '../../../test/integration/proxy-helpers/proxies.js';
import { startFakeApi } from '../../../test/integration/proxy-helpers/fake-api.js';

const appPort = Number(process.argv[2]);
const srcAt = process.argv.indexOf('--src');
const src = srcAt > 0 ? path.resolve(process.argv[srcAt + 1]!) : path.resolve(import.meta.dirname, '../../..');

// Wrap createSecureServer (https.ts calls it through the module object) to see each session's end.
const t0 = Date.now();
const create = http2.createSecureServer;
(http2 as unknown as { createSecureServer: unknown }).createSecureServer = (...a: Parameters<typeof create>) => {
  const server = create(...a);
  let id = 0;
  server.on('session', (s) => {
    const sid = ++id;
    let streams = 0;
    s.on('stream', () => { streams++; });
    s.on('close', () => process.stderr.write(`ours: session ${sid} closed after ${Date.now() - t0} ms, ${streams} streams\n`));
  });
  return server;
};
const { startProxy } = await import(path.join(src, 'apps/proxy/src/index.ts')) as typeof import('../../../apps/proxy/src/index.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2-floods-'));
const m = await makeTestCerts(dir, ['rr.dream']);
const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
const { NO_CERTIFICATES } = await import('../../../apps/proxy/src/tls/types.js');
const certs = { ...NO_CERTIFICATES, secureContext: (n: string) => (n === 'rr.dream' ? sc : undefined), hasCertificate: () => false, ensure: () => {} };
const api = await startFakeApi('int_bench', [{ app: 'rr', hosts: ['rr.dream'], endpoints: [{ host: '127.0.0.1', port: appPort }] }]);
const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
const proxy = await startProxy({ config, token: 'int_bench', log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, pollWaitSeconds: 1 });
await proxy.routes.synced;
fs.writeFileSync(path.join(dir, 'ca.pem'), m.ca);
console.log(JSON.stringify({ httpsPort: proxy.httpsPort, ca: path.join(dir, 'ca.pem'), pid: process.pid }));
process.on('SIGTERM', () => { fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); });
