// The real proxy with its real certificate stack (startProxy + startCertificates, in this process)
// polling a fake api, `.dream` names issued by the built-in CA; withBuiltinCaProxy() the suite set-up
// (before all / after all) that the suites about many names to issue at start share (tls-many-names,
// tls-queued-handshake).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll } from 'vitest';
import { startProxy } from '../../../apps/proxy/src/index.js';
import { startCertificates } from '../../../apps/proxy/src/tls/start.js';
import { startFakeApi, type TestRoute } from './fake-api.js';
import { startUpstream } from './upstreams.js';

/**
 * A fake api serving `routes` and the proxy polling it on 127.0.0.1 (HTTP and HTTPS on free ports),
 * `.dream` on the built-in CA and no public CA: only the `.dream` names are ordered, custom domains
 * are served over plain HTTP. close() stops the proxy, the certificates and the api and removes the data dir.
 */
export async function startBuiltinCaProxy(token: string, routes: TestRoute[]) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-builtin-ca-'));
  const api = await startFakeApi(token, routes);
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_DREAM_ACME_DIRECTORY: '' });
  (config as { acmeDirectory: string }).acmeDirectory = '';
  const log = pino({ level: 'silent' });
  const certs = await startCertificates({ config, log });
  const proxy = await startProxy({ config, token, log, certs: certs.certs, port: 0, host: '127.0.0.1', httpsPort: 0, pollWaitSeconds: 1, accessLog: null });
  /** How many names have their certificate. */
  const issued = () => certs.certs.status().filter((s) => s.state === 'issued').length;
  return {
    api, certs, proxy, issued,
    close: async () => { await proxy.close(); await certs.close(); await api.close(); fs.rmSync(dataDir, { recursive: true, force: true }); },
  };
}

export type BuiltinCaProxy = Awaited<ReturnType<typeof startBuiltinCaProxy>>;

/**
 * The suite set-up: before all, one upstream and `apps` apps on it (`app<i>`, hosts `hostsOf(i)`)
 * behind startBuiltinCaProxy(); after all, both stopped. The proxy, its certificates and issued()
 * are read once the set-up ran.
 */
export function withBuiltinCaProxy(token: string, apps: number, hostsOf: (i: number) => string[]): Pick<BuiltinCaProxy, 'proxy' | 'certs' | 'issued'> {
  let up: Awaited<ReturnType<typeof startUpstream>> | undefined;
  let edge: BuiltinCaProxy | undefined;
  beforeAll(async () => {
    const replica = await startUpstream('up');
    up = replica;
    edge = await startBuiltinCaProxy(token, Array.from({ length: apps }, (_, i) => ({ app: `app${i}`, hosts: hostsOf(i), endpoints: [replica.endpoint] })));
  }, 60_000);
  afterAll(async () => {
    await edge?.close();
    await up?.close();
  });
  const started = () => { if (!edge) throw new Error('withBuiltinCaProxy: used before its beforeAll ran'); return edge; };
  return { get proxy() { return started().proxy; }, get certs() { return started().certs; }, issued: () => started().issued() };
}
