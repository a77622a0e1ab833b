// How many requests one HTTP/2 connection may have open at once. Without a limit node's server
// advertises 2^32-1 concurrent streams, so one client connection became as many upstream
// connections to the app as it liked (measured: 2 000 streams → 2 000 requests in the app at
// once, 2 000 connections), where an HTTP/1.1 connection is one request at a time. The proxy
// advertises 128, as nginx does (http2_max_concurrent_streams); a client keeps the rest queued.
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { H2_MAX_CONCURRENT_STREAMS } from '../../apps/proxy/src/h2.js';
import { NO_CERTIFICATES, type CertificateSource } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, startFakeApi } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
const STREAMS = 400;
let dir: string;
let ca: Buffer;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let proxy: ProxyHandle;
let app: http.Server;
let inApp = 0;
let mostInApp = 0;
const appConnections = new Set<unknown>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-h2-streams-'));
  const m = await makeTestCerts(dir, ['many.dream']);
  ca = m.ca;
  const ctx = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs: CertificateSource = { ...NO_CERTIFICATES, secureContext: (n) => (n === 'many.dream' ? ctx : undefined), hasCertificate: (h) => h === 'many.dream' };
  // Each request is held 300 ms, so the streams of one burst are all open at the same time.
  app = http.createServer((_req, res) => {
    mostInApp = Math.max(mostInApp, ++inApp);
    setTimeout(() => { inApp--; res.end('ok'); }, 300);
  });
  app.on('connection', (s) => appConnections.add(s));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const port = (app.address() as { port: number }).port;
  api = await startFakeApi(TOKEN, [{ app: 'many', hosts: ['many.dream'], endpoints: [{ host: '127.0.0.1', port }] }]);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0 });
  await proxy.routes.synced;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  app?.closeAllConnections();
  await new Promise((r) => (app ? app.close(r) : r(undefined)));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('concurrent streams on one HTTP/2 connection', () => {
  it(`the proxy advertises ${H2_MAX_CONCURRENT_STREAMS}; ${STREAMS} requests at once on one connection all succeed, at most that many in the app at a time`, async () => {
    expect(H2_MAX_CONCURRENT_STREAMS).toBe(128);
    const session = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca, servername: 'many.dream' });
    try {
      await new Promise((r) => session.once('remoteSettings', r));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(H2_MAX_CONCURRENT_STREAMS);
      const statuses = await Promise.all(Array.from({ length: STREAMS }, () => new Promise<number | string>((resolve) => {
        const st = session.request({ ':path': '/', ':authority': 'many.dream' });
        let status = 0;
        st.on('response', (h) => { status = Number(h[':status']); });
        st.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        st.on('end', () => resolve(status));
        st.resume();
        st.end();
      })));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      expect(mostInApp).toBeGreaterThan(H2_MAX_CONCURRENT_STREAMS / 2); // the limit was reached, not avoided
      expect(mostInApp).toBeLessThanOrEqual(H2_MAX_CONCURRENT_STREAMS);
      expect(appConnections.size).toBeLessThanOrEqual(H2_MAX_CONCURRENT_STREAMS);
    } finally {
      session.destroy();
    }
  }, 30_000);
});
