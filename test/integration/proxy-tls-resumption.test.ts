// TLS session resumption with real main.ts processes. A client that comes back with the session
// (ticket) of its last connection skips the full handshake — whichever worker accepts it, and
// after a SIGHUP reload replaced every worker. Before the workers shared their ticket keys, each
// had its own: with 2 workers 39 of 80 reconnections (4 at a time, TLS 1.3) got a full handshake,
// and after a reload every one did.
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_tls_resumption';
const HOST = 'web.dream';
const suite = mainProcessSuite('proxy-tls-resumption-', TOKEN, HOST);
type Version = 'TLSv1.2' | 'TLSv1.3';

const startMain = (workers: number, ports: { http: number; https: number }): MainProcess =>
  suite.spawn({ DREAM_HTTP_PORT: String(ports.http), DREAM_HTTPS_PORT: String(ports.https), DREAM_PROXY_WORKERS: String(workers) });

interface Visit { status: string; resumed: boolean; session: Buffer | undefined }

/** One HTTPS request on a new connection offering `session`: the status line, whether the session was resumed, the session to keep. */
function visit(port: number, version: Version, session?: Buffer): Promise<Visit> {
  return new Promise((resolve, reject) => {
    let resumed = false;
    let next: Buffer | undefined;
    let body = '';
    const s = tls.connect({ host: '127.0.0.1', port, servername: HOST, rejectUnauthorized: false, session, minVersion: version, maxVersion: version, ALPNProtocols: ['http/1.1'] }, () => {
      resumed = s.isSessionReused();
      s.write(`GET / HTTP/1.1\r\nhost: ${HOST}\r\nconnection: close\r\n\r\n`);
    });
    s.on('session', (b: Buffer) => { next = b; });
    s.on('data', (c: Buffer) => { body += c.toString('latin1'); });
    s.on('error', reject);
    s.on('close', () => resolve({ status: body.split('\r\n')[0] ?? '', resumed, session: next ?? session }));
  });
}

/** `batches` rounds of 4 connections at once, each offering the session the last round got: how many of them resumed. */
async function reconnect(port: number, version: Version, batches: number): Promise<{ resumed: number; of: number; statuses: Set<string> }> {
  let session = (await visit(port, version)).session;
  let resumed = 0;
  const statuses = new Set<string>();
  for (let i = 0; i < batches; i++) {
    const vs = await Promise.all([0, 1, 2, 3].map(() => visit(port, version, session)));
    for (const v of vs) { statuses.add(v.status); if (v.resumed) resumed++; }
    session = vs[3]!.session;
  }
  return { resumed, of: batches * 4, statuses };
}

const count = (out: string, s: string) => out.split(s).length - 1;

describe('TLS session resumption', () => {
  it('2 workers: every reconnection offering a session resumes it, TLS 1.3 and 1.2, whichever worker accepts it', async () => {
    const ports = { http: await freePort(), https: await freePort() };
    const p = startMain(2, ports);
    await expect.poll(() => count(p.out(), '"msg":"routes applied"'), { timeout: 20_000 }).toBe(2);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const r = await reconnect(ports.https, version, 20);
      console.log(`${version}, 2 workers: ${r.resumed} of ${r.of} reconnections resumed`);
      expect([...r.statuses]).toEqual(['HTTP/1.1 200 OK']);
      expect(r.resumed).toBe(r.of);
    }
  }, 60_000);

  it('a SIGHUP reload replaces every worker and sessions from before it still resume', async () => {
    const ports = { http: await freePort(), https: await freePort() };
    const p = startMain(2, ports);
    await expect.poll(() => count(p.out(), '"msg":"routes applied"'), { timeout: 20_000 }).toBe(2);
    const before = { 'TLSv1.3': (await visit(ports.https, 'TLSv1.3')).session, 'TLSv1.2': (await visit(ports.https, 'TLSv1.2')).session };
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded/, 30_000);
    for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
      const after = await Promise.all([0, 1, 2, 3].map(() => visit(ports.https, version, before[version])));
      expect(after.map((v) => v.status)).toEqual(Array(4).fill('HTTP/1.1 200 OK'));
      expect(after.map((v) => v.resumed)).toEqual([true, true, true, true]);
    }
  }, 60_000);

  it('1 process: reconnections resume too', async () => {
    const ports = { http: await freePort(), https: await freePort() };
    const p = startMain(1, ports);
    await p.seen(/proxy listening/);
    await p.seen(/"msg":"routes applied"/);
    const r = await reconnect(ports.https, 'TLSv1.3', 5);
    expect(r.resumed).toBe(r.of);
  }, 60_000);
});
