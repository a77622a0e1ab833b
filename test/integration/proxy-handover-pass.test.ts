// Replacing the proxy process (a new main.ts taking the ports over from a running one, as
// scripts/selfhost-proxy-replace.sh does with containers) under clients that open a new connection
// for every request, plain HTTP and HTTPS. The old proxy passes its listening
// sockets (handover/fdpass.ts) and keeps accepting until the new one listens on them: not one
// connection is refused, whether either side runs one process or a cluster primary with workers
// (which holds the sockets itself and gives its workers copies: handover/primary-sockets.ts).
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_handover_pass';
const HOST = 'web.dream';
const suite = mainProcessSuite('proxy-ho-pass-', TOKEN, HOST);

const startMain = (env: Record<string, string>): MainProcess =>
  suite.spawn({ DREAM_HTTPS_REDIRECT: 'off', DREAM_DRAIN_TIMEOUT_MS: '2000', ...env });

/** One GET on a new connection: its status and body, or the error code. */
function fresh(port: number, secure: boolean): Promise<string> {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port, path: '/', agent: false as const, headers: { host: HOST } };
    const req = secure ? https.get({ ...opts, servername: HOST, rejectUnauthorized: false }) : http.get(opts);
    req.on('response', (res) => { let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(`${res.statusCode} ${b}`)); });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** `n` clients per protocol, each opening a new connection per request, back to back, until stopped. */
function traffic(httpPort: number, httpsPort: number, n = 2) {
  const results = new Map<string, number>();
  let on = true;
  const client = async (port: number, secure: boolean) => {
    while (on) {
      const r = `${secure ? 'https' : 'http'} ${await fresh(port, secure)}`;
      results.set(r, (results.get(r) ?? 0) + 1);
    }
  };
  const all = Promise.all(Array.from({ length: n }, () => [client(httpPort, false), client(httpsPort, true)]).flat());
  return { stop: async () => { on = false; await all; return Object.fromEntries(results); } };
}

async function replace(oldWorkers: string, newWorkers: string) {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const env = { DREAM_DATA_DIR: path.join(suite.dir, `data-${oldWorkers}-${newWorkers}`), DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort) };
  const old = startMain({ ...env, DREAM_PROXY_WORKERS: oldWorkers });
  await old.seen(oldWorkers === '1' ? /proxy listening/ : /proxy listening[\s\S]*proxy listening/);
  expect(await fresh(httpPort, false)).toBe('200 ok');
  const load = traffic(httpPort, httpsPort);
  await new Promise((r) => setTimeout(r, 500));
  const next = startMain({ ...env, DREAM_PROXY_WORKERS: newWorkers });
  await next.seen(/handover: took over the listeners/, 30_000);
  await old.seen(/handover: drained/, 30_000);
  await new Promise((r) => setTimeout(r, 500));
  const results = await load.stop();
  // The new one serves alone now.
  old.child.kill('SIGKILL');
  await old.exited;
  expect(await fresh(httpPort, false)).toBe('200 ok');
  expect(await fresh(httpsPort, true)).toBe('200 ok');
  const took = JSON.parse(next.out().split('\n').find((l) => l.includes('handover: took over the listeners'))!) as { gapMs: number; passed: number[] };
  return { results, took, old, next, httpPort, httpsPort };
}

describe('replacing the proxy process under new connections', () => {
  // [old workers, new workers]: a cluster primary holds the sockets itself (primary-sockets.ts).
  it.each([['1', '1'], ['2', '1'], ['1', '2'], ['2', '2']])('%s worker(s) → %s: the old proxy passes its listening sockets; not one connection is refused', async (from, to) => {
    const { results, took, old, httpPort, httpsPort } = await replace(from, to);
    console.log(`handover ${from} → ${to} worker(s) by passing the sockets:`, JSON.stringify(results), JSON.stringify(took));
    expect(old.out()).toMatch(/handover: passed the listening sockets to the next proxy/);
    expect(took.passed).toEqual([httpPort, httpsPort]);
    expect(took.gapMs).toBe(0);
    expect(Object.keys(results).sort()).toEqual(['http 200 ok', 'https 200 ok']);
    expect(results['http 200 ok']).toBeGreaterThan(50);
    expect(results['https 200 ok']).toBeGreaterThan(20);
  }, 90_000);
});
