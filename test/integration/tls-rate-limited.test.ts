// A CA that refuses orders with an RFC 8555 `rateLimited` problem (HTTP 429 + Retry-After), as Let's
// Encrypt does for its rate limits. Pebble cannot produce one, so a small HTTPS front forwards every
// request to Pebble (its Host kept, so Pebble's URLs and the JWS `url` name the front) and answers
// the first newOrder(s) itself with a faithful problem document. What is checked is what the CA and
// an operator see: when the next newOrder reaches the CA, the status `dream domains` shows, the log,
// and at the end a verified TLS handshake.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { withPebble } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-rate-limited-'));
let current: Certificates | undefined;
const suite = withPebble(path.join(dir, 'suite'), () => current);
const servers: Array<https.Server | tls.Server> = [];
let tlsPort: number;
let root: string;
let logged = '';

interface Problem { status: number; type: string; detail: string; retryAfter?: string }
/** The front: newOrder arrivals, the refusals it sent (with a Retry-After), and the answers it gives the next newOrders. */
const front = { directory: '', arrivals: [] as number[], refusedAt: [] as number[], answers: [] as Problem[] };
const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';

async function start(data: string): Promise<Certificates> {
  await current?.close();
  logged = '';
  const log = pino({ level: 'info' }, { write: (s: string) => { logged += s; } });
  current = await startCertificates({
    config: loadConfig({ DREAM_DATA_DIR: path.join(dir, data), DREAM_ACME_DIRECTORY: front.directory, DREAM_ACME_CA_BUNDLE: suite.pebble.caFile, DREAM_DNS_PORT: String(suite.dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1' }),
    // Our own backoff well below the CA's Retry-After: the CA's answer has to decide.
    manager: { backoff: { minMs: 200, maxMs: 1000 }, tickMs: 100 }, log,
  });
  return current;
}

function handshake(servername: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: root }, () => { resolve(sock.authorized); sock.end(); });
    sock.on('error', () => resolve(false));
  });
}

const status = (host: string) => current!.certs.status().find((s) => s.host === host);
const warns = () => logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; retryAt?: string }).filter((l) => l.level === 40);

/** No newOrder reached the CA before the Retry-After of the refusal before it ran out. */
function expectRetryAfterHonoured(): void {
  for (const refused of front.refusedAt) {
    const next = front.arrivals.find((t) => t > refused);
    expect(next, 'a newOrder after the refusal').toBeDefined();
    expect(next! - refused, 'ms from the refusal to the next newOrder').toBeGreaterThanOrEqual(3000 - 5);
  }
}

beforeAll(async () => {
  root = await suite.pebble.root();
  const pebbleCa = fs.readFileSync(suite.pebble.caFile);
  const nonce = () => new Promise<string>((resolve, reject) => {
    https.request(`https://127.0.0.1:${suite.pebble.port}/nonce-plz`, { method: 'HEAD', ca: pebbleCa }, (r) => { r.resume(); resolve(String(r.headers['replay-nonce'])); }).on('error', reject).end();
  });
  const srv = https.createServer({ cert: pebbleCa, key: fs.readFileSync(suite.pebble.keyFile) }, (req, res) => {
    if (req.method === 'POST' && req.url === '/order-plz') {
      front.arrivals.push(Date.now());
      const p = front.answers.shift();
      if (p) {
        req.resume();
        // As a CA answers a rate limit (RFC 8555 §6.6): a problem document, Retry-After, a fresh nonce.
        void nonce().then((n) => {
          if (p.retryAfter) front.refusedAt.push(Date.now());
          res.writeHead(p.status, { 'content-type': 'application/problem+json', ...(p.retryAfter ? { 'retry-after': p.retryAfter } : {}), 'replay-nonce': n, link: `<https://${req.headers.host}/dir>;rel="index"` })
            .end(JSON.stringify({ type: p.type, detail: p.detail, status: p.status }));
        });
        return;
      }
    }
    // Everything else is Pebble's, the Host kept: the URLs it answers with lead back here.
    const up = https.request({ host: '127.0.0.1', port: suite.pebble.port, method: req.method, path: req.url, headers: req.headers, ca: pebbleCa }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  front.directory = `https://127.0.0.1:${(srv.address() as { port: number }).port}/dir`;
  const hs = tls.createServer({ SNICallback: (name, cb) => cb(null, current?.certs.secureContext(name)) }, (s) => s.end());
  hs.on('tlsClientError', () => {});
  servers.push(hs);
  await new Promise<void>((r) => hs.listen(0, '127.0.0.1', r));
  tlsPort = (hs.address() as { port: number }).port;
}, 120_000);

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

describe('the CA refuses orders with rateLimited and Retry-After', () => {
  it('a name the CA rate-limited is not ordered again before its Retry-After; its status says so and until when; then it is issued', async () => {
    const detail = 'too many failed authorizations (5) for "limited.example.test" in the last 1h0m0s, retry after 2026-12-05 16:00:00 UTC: see https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-hostname-per-account';
    Object.assign(front, { arrivals: [], refusedAt: [], answers: [1, 2].map(() => ({ status: 429, type: RATE_LIMITED, detail, retryAfter: '3' })) });
    const c = await start('name');
    c.certs.ensure(['limited.example.test']);
    void c.certs.tick();
    await expect.poll(() => status('limited.example.test')?.state, { timeout: 2000, interval: 20 }).toBe('failing');
    const s = status('limited.example.test')!;
    expect(s.error).toMatch(/rate.limit/i);
    expect(s.error).toContain('too many failed authorizations (5) for "limited.example.test"');
    expect(Date.parse(s.nextAttemptAt!)).toBeGreaterThanOrEqual(front.refusedAt[0]! + 3000 - 5);

    await expect.poll(() => status('limited.example.test')?.state, { timeout: 20_000, interval: 50 }).toBe('issued');
    expect(front.refusedAt).toHaveLength(2);
    expectRetryAfterHonoured();
    expect(front.arrivals).toHaveLength(3); // two refused, one taken: no newOrder beyond those
    // One warn line for each refusal, naming when the CA is asked again.
    const limited = warns().filter((w) => /rate.limit/i.test(w.msg));
    expect(limited).toHaveLength(2);
    expect(limited.every((w) => w.retryAt)).toBe(true);
    expect(await handshake('limited.example.test')).toBe(true);
  }, 60_000);

  it('an account-wide limit (new orders per account) holds back the account\'s other names until its Retry-After', async () => {
    const detail = 'too many new orders (300) from this account in the last 3h0m0s, retry after 2026-12-05 16:00:00 UTC: see https://letsencrypt.org/docs/rate-limits/#new-orders-per-account';
    Object.assign(front, { arrivals: [], refusedAt: [], answers: [{ status: 429, type: RATE_LIMITED, detail, retryAfter: '3' }] });
    const c = await start('account');
    c.certs.ensure(['first.example.test']);
    void c.certs.tick();
    await expect.poll(() => status('first.example.test')?.state, { timeout: 2000, interval: 20 }).toBe('failing');
    // Another name of the same account, wanted while the account is held back.
    c.certs.ensure(['first.example.test', 'second.example.test']);
    await expect.poll(() => status('second.example.test')?.error ?? '', { timeout: 2000, interval: 20 }).toMatch(/rate.limit/i);
    const s = status('second.example.test')!;
    expect(s.state).toBe('pending');
    expect(s.error).toContain('too many new orders (300) from this account');
    expect(Date.parse(s.nextAttemptAt!)).toBeGreaterThanOrEqual(front.refusedAt[0]! + 3000 - 5);

    await expect.poll(() => [status('first.example.test')?.state, status('second.example.test')?.state], { timeout: 20_000, interval: 50 }).toEqual(['issued', 'issued']);
    expectRetryAfterHonoured();
    expect(front.arrivals.filter((t) => t < front.refusedAt[0]! + 3000 - 5)).toHaveLength(1); // only the refused one
    expect(warns().filter((w) => /rate.limit/i.test(w.msg))).toHaveLength(1);
    expect(await handshake('first.example.test')).toBe(true);
    expect(await handshake('second.example.test')).toBe(true);
  }, 60_000);

  it('a 503 with Retry-After (CA maintenance) as an HTTP-date: the CA is not asked before it, the status says it is unavailable', async () => {
    const detail = 'The service is down for maintenance';
    // An HTTP-date has whole seconds: 4 s ahead, so that at least 3 s are left when it is sent.
    const at = new Date(Math.ceil((Date.now() + 4000) / 1000) * 1000);
    Object.assign(front, { arrivals: [], refusedAt: [], answers: [{ status: 503, type: 'urn:ietf:params:acme:error:serverInternal', detail, retryAfter: at.toUTCString() }] });
    const c = await start('maintenance');
    c.certs.ensure(['maintenance.example.test']);
    void c.certs.tick();
    await expect.poll(() => status('maintenance.example.test')?.state, { timeout: 2000, interval: 20 }).toBe('failing');
    const s = status('maintenance.example.test')!;
    expect(s.error).toMatch(/unavailable.*maintenance/);
    expect(Date.parse(s.nextAttemptAt!)).toBe(at.getTime());
    await expect.poll(() => status('maintenance.example.test')?.state, { timeout: 20_000, interval: 50 }).toBe('issued');
    expect(front.arrivals).toHaveLength(2);
    expect(front.arrivals[1]!).toBeGreaterThanOrEqual(at.getTime());
    expect(await handshake('maintenance.example.test')).toBe(true);
  }, 60_000);

  it('badNonce: acme-client sends the request again with the fresh nonce itself; the order does not fail', async () => {
    Object.assign(front, { arrivals: [], refusedAt: [], answers: [{ status: 400, type: 'urn:ietf:params:acme:error:badNonce', detail: 'JWS has an invalid anti-replay nonce' }] });
    const c = await start('nonce');
    c.certs.ensure(['nonce.example.test']);
    await c.certs.tick();
    expect(status('nonce.example.test')).toMatchObject({ state: 'issued', error: undefined });
    expect(front.arrivals).toHaveLength(2);
    expect(warns()).toEqual([]);
    expect(await handshake('nonce.example.test')).toBe(true);
  }, 60_000);
});
