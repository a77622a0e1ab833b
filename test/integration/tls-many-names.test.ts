// A proxy that starts with many `.dream` names to issue (a first start with a thousand apps, a data
// dir restored without its certificates, `.dream` switched to the built-in CA): the real proxy
// (startProxy + startCertificates, the built-in CA) polling the fake api, real sockets. The
// certificates are made in the background; requests for apps must keep being answered meanwhile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { request, startFakeApi, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_many_names';
/** Enough names that issuing them all takes seconds (~5 ms of this process's CPU each). */
const N = 1000;

let dataDir: string;
let up: Awaited<ReturnType<typeof startUpstream>>;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let certs: Certificates;
let proxy: ProxyHandle;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-many-'));
  up = await startUpstream('up');
  const routes = Array.from({ length: N }, (_, i) => ({ app: `app${i}`, hosts: [`app${i}.dream`, `www.app${i}.example.test`], endpoints: [up.endpoint] }));
  api = await startFakeApi(TOKEN, routes);
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent', DREAM_DREAM_ACME_DIRECTORY: '' });
  // No public CA: only the .dream names are ordered (the custom domains are served over plain HTTP).
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

function handshake(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: proxy.httpsPort!, servername: name, ca: certs.ca!.rootPem }, () => { resolve(s.authorized); s.destroy(); });
    s.on('error', () => resolve(false));
  });
}

describe(`${N} .dream names to issue at start (built-in CA)`, () => {
  it('requests are answered within a second while the certificates are made, and every name gets one', async () => {
    await proxy.routes.synced;
    expect(certs.certs.status().length).toBe(N);
    // One request every 50 ms until all are issued, each timed from send to answer. Before, the
    // orders all ran at once and the finished ones' work ran back to back on one turn of the event
    // loop: 1 000 names held requests 2-5 s (5 000 names: 27 s) and handshakes as long.
    const times: number[] = [];
    const statuses = new Set<number>();
    const sent: Promise<void>[] = [];
    const t0 = Date.now();
    while (issued() < N && Date.now() - t0 < 60_000) {
      const t = performance.now();
      sent.push(request(proxy.port, 'www.app1.example.test').then((r) => { statuses.add(r.status); times.push(performance.now() - t); }));
      await new Promise((r) => setTimeout(r, 50));
    }
    await Promise.all(sent);
    expect(issued()).toBe(N);
    expect([...statuses]).toEqual([200]);
    expect(times.length).toBeGreaterThan(5);
    expect(Math.max(...times)).toBeLessThan(1000);
    expect(await handshake(`app${N - 1}.dream`)).toBe(true);
  }, 90_000);
});
