// HTTP/2 connections with nothing open are closed after the idle timeout (GOAWAY), as nginx does;
// node's HTTP/2 server alone keeps them for good. A quiet stream still open is not idleness.
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { frame } from './proxy-helpers/h2-floods.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { NO_CERTIFICATES, type CertificateSource } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, startFakeApi, startUpstream } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
const IDLE_MS = 1500;
let dir: string;
let ca: Buffer;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let a: Awaited<ReturnType<typeof startUpstream>>;
let proxy: ProxyHandle;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-h2-idle-'));
  const m = await makeTestCerts(dir, ['secure.dream']);
  ca = m.ca;
  const ctx = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs: CertificateSource = { ...NO_CERTIFICATES, secureContext: (n) => (n === 'secure.dream' ? ctx : undefined), hasCertificate: (h) => h === 'secure.dream' };
  a = await startUpstream('A');
  api = await startFakeApi(TOKEN, [{ app: 'secure', hosts: ['secure.dream'], endpoints: [a.endpoint] }]);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'silent' });
  proxy = await startProxy({ config, token: TOKEN, log: pino({ level: 'silent' }), port: 0, host: '127.0.0.1', certs, httpsPort: 0, h2IdleMs: IDLE_MS });
  await proxy.routes.synced;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  await a?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Opens a session, runs `paths` one after another; resolves with the statuses and when the server ended the session (ms after the last answer; -1 = still open after `capMs`). */
function session(paths: string[], capMs: number): Promise<{ statuses: number[]; goaway: boolean; closedAfter: number }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://127.0.0.1:${proxy.httpsPort}`, { ca, servername: 'secure.dream' });
    const statuses: number[] = [];
    let goaway = false;
    let last = 0;
    s.on('error', reject);
    s.on('goaway', () => { goaway = true; });
    const cap = setTimeout(() => { s.destroy(); resolve({ statuses, goaway, closedAfter: -1 }); }, capMs);
    s.on('close', () => { clearTimeout(cap); resolve({ statuses, goaway, closedAfter: last ? Date.now() - last : -2 }); });
    const next = (i: number) => {
      if (i === paths.length) { last = Date.now(); return; }
      const req = s.request({ ':path': paths[i]!, ':authority': 'secure.dream' });
      req.on('response', (h) => statuses.push(Number(h[':status'])));
      req.resume();
      req.on('end', () => next(i + 1));
      req.on('error', reject);
      req.end();
    };
    next(0);
  });
}

describe('idle HTTP/2 connections', () => {
  it('closes a connection idle for the timeout with GOAWAY, counted from its last stream', async () => {
    // Two requests 1 s apart: the first one's end must not start a timer the second leaves running.
    const r = await session(['/', `/slow?ms=${IDLE_MS - 500}`, '/'], 8000);
    expect(r.statuses).toEqual([200, 200, 200]);
    expect(r.goaway).toBe(true);
    expect(r.closedAfter, 'ms after the last answer (-1: still open after 8 s)').toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(r.closedAfter).toBeLessThan(IDLE_MS + 2000);
  }, 15_000);

  it('keeps a connection whose one stream is quiet for longer than the timeout', async () => {
    const t0 = Date.now();
    const r = await session([`/slow?ms=${IDLE_MS * 2}`], 10_000);
    expect(r.statuses).toEqual([200]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(IDLE_MS * 2 + IDLE_MS - 100);
    expect(r.closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 100);
  }, 15_000);
});

// node ends the socket of a session that is over and waits for the client's FIN for good: a client
// that never sent it held the socket (and kept a stopping proxy's close() from ever finishing).
describe('a client that never closes its side', () => {
  /**
   * A raw HTTP/2 connection (half-open allowed: our FIN is not answered): preface, SETTINGS. When
   * the server's FIN came, and when the socket closed: a server that closed its socket as well
   * sends nothing more, so PINGs 6 s after its FIN find out (a reset); one still holding the
   * socket takes the PING and says nothing.
   */
  function rawH2(after: (write: (b: Buffer) => void) => void, capMs: number): Promise<{ finAt: number; closedAt: number; t0: number }> {
    return new Promise((resolve) => {
      const t0 = Date.now();
      const sock = tls.connect({ host: '127.0.0.1', port: proxy.httpsPort!, ca, servername: 'secure.dream', ALPNProtocols: ['h2'], allowHalfOpen: true } as tls.ConnectionOptions);
      let finAt = -1;
      const cap = setTimeout(() => { sock.destroy(); resolve({ finAt, closedAt: -1, t0 }); }, capMs);
      sock.on('error', () => {});
      sock.on('data', () => {});
      sock.on('end', () => {
        finAt = Date.now();
        // The first write draws the reset, the second fails on it (EPIPE): node no longer reads after the FIN.
        for (const ms of [6000, 6200]) setTimeout(() => sock.write(frame(0x6, 0, 0, Buffer.alloc(8))), ms);
      });
      sock.on('close', () => { clearTimeout(cap); resolve({ finAt, closedAt: Date.now(), t0 }); });
      sock.on('secureConnect', () => {
        sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0))]));
        after((b) => sock.write(b));
      });
    });
  }

  it('gets 5 s after the session ended (idle close) to close it, then the socket is closed', async () => {
    const r = await rawH2(() => {}, IDLE_MS + 9000);
    // The idle close: GOAWAY, then node ends the socket (before: and waited for good).
    expect(r.finAt - r.t0).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(r.closedAt, 'still open at the cap').toBeGreaterThan(0);
    expect(r.closedAt - r.finAt).toBeGreaterThanOrEqual(6000);
    expect(r.closedAt - r.finAt).toBeLessThan(7500);
  }, 15_000);

  it('after its own GOAWAY too', async () => {
    const goaway = Buffer.alloc(8); // last stream 0, NO_ERROR
    const r = await rawH2((write) => setTimeout(() => write(frame(0x7, 0, 0, goaway)), 100), 9000);
    expect(r.finAt, 'the server never ended its side').toBeGreaterThan(0);
    expect(r.finAt - r.t0).toBeLessThan(1000);
    expect(r.closedAt, 'still open at the cap').toBeGreaterThan(0);
    expect(r.closedAt - r.finAt).toBeLessThan(7500);
  }, 15_000);
});
