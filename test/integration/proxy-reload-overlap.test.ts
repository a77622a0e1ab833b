// SIGHUP reloads that overlap what the previous one left running, with real main.ts processes
// (DREAM_PROXY_WORKERS=2):
// - the workers a reload retired may still be draining (a slow request, up to DREAM_DRAIN_TIMEOUT_MS)
//   when the next SIGHUP comes: that reload replaces only the serving workers, so each reload forks
//   two and two workers are left once the drains end (before, it replaced the draining ones too and
//   kept their replacements: 3-5 forks a reload and one more lasting worker each time — under
//   HTTP/2 load 4 reloads made 14 forks and left 5 workers instead of 2, each reload slower, up to 12 s);
// - a SIGHUP that comes while a reload runs is not dropped: one more reload follows it.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import path from 'node:path';
import { mainProcessSuite, spawnMain, startUpstream, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_reload_overlap';
const HOST = 'web.dream';
const suite = mainProcessSuite('proxy-reload-overlap-', TOKEN, HOST);
let app: Awaited<ReturnType<typeof startUpstream>>;

beforeAll(async () => {
  app = await startUpstream('A');
  suite.api.setRoutes([{ app: 'web', hosts: [HOST], endpoints: [app.endpoint] }]);
});
afterAll(async () => { await app?.close(); });

const pidsOf = (out: string, msg: string) => out.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => (JSON.parse(l) as { pid: number }).pid);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const count = (out: string, s: string) => out.split(s).length - 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** main.ts with 2 workers and a long drain; resolves once both route. */
async function startCluster(): Promise<MainProcess & { httpPort: number }> {
  const httpPort = await freePort();
  const p = spawnMain({
    DREAM_DATA_DIR: path.join(suite.dir, `data-${httpPort}`), DREAM_API_URL: suite.api.url, DREAM_INTERNAL_TOKEN: TOKEN,
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: '0', DREAM_DNS_PORT: '0',
    DREAM_PROXY_WORKERS: '2', DREAM_DRAIN_TIMEOUT_MS: '30000', DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info',
  });
  suite.procs.push(p);
  await p.seen(/routes applied[\s\S]*routes applied/);
  return Object.assign(p, { httpPort });
}

/** A GET on its own connection: the status, or the error's code. */
function get(port: number, p: string): Promise<string> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port, path: p, headers: { host: HOST }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
    }).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** The workers serving now: those that logged 'proxy listening' and are alive. */
const workers = (p: MainProcess) => pidsOf(p.out(), 'proxy listening').filter(alive);

describe('SIGHUP reloads that overlap (2 workers)', () => {
  it('a reload while the previous one\'s old workers still drain replaces only the serving ones: 2 forks, 2 workers left', async () => {
    const p = await startCluster();
    // Requests in flight for 8 s: whichever old worker took them drains that long after the first reload.
    const slow = Array.from({ length: 4 }, () => get(p.httpPort, '/slow?ms=8000'));
    await sleep(300);
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded/, 30_000);
    const draining = pidsOf(p.out(), 'proxy listening').slice(0, 2).filter(alive);
    expect(draining.length).toBeGreaterThan(0);
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded[\s\S]*proxy workers reloaded/, 30_000);
    // Initial 2 + 2 per reload. A worker's own log line travels on its stdout, the primary's
    // "reloaded" came by IPC: the line can arrive a little later.
    await expect.poll(() => pidsOf(p.out(), 'proxy listening').length, { timeout: 5000 }).toBe(6);
    expect(await Promise.all(slow)).toEqual(Array(4).fill('HTTP 200'));
    await expect.poll(() => workers(p).length, { timeout: 20_000 }).toBe(2);
    await sleep(1000);
    expect(workers(p)).toHaveLength(2);
    expect(await get(p.httpPort, '/')).toBe('HTTP 200');
  }, 90_000);

  it('SIGHUPs while a reload runs are not dropped: one more reload follows it', async () => {
    const p = await startCluster();
    const first = pidsOf(p.out(), 'proxy listening');
    p.child.kill('SIGHUP');
    // The first reload's first replacement is starting (a worker takes over a second to start).
    await sleep(200);
    p.child.kill('SIGHUP');
    await sleep(200);
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded[\s\S]*proxy workers reloaded/, 60_000);
    expect(p.out()).toContain('SIGHUP during a reload: another reload follows it');
    await sleep(3000);
    // Coalesced: two reloads, not three, and none of them left out.
    expect(count(p.out(), '"msg":"proxy workers reloaded"')).toBe(2);
    expect(pidsOf(p.out(), 'proxy listening')).toHaveLength(6);
    await expect.poll(() => workers(p).length, { timeout: 20_000 }).toBe(2);
    expect(first.some(alive)).toBe(false);
    expect(await get(p.httpPort, '/')).toBe('HTTP 200');
  }, 90_000);
});
