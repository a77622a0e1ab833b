// The cluster primary's supervision with real main.ts processes (DREAM_PROXY_WORKERS=2):
// - a SIGHUP reload retires an old worker only once its replacement says that every one of its
//   listeners listens (not a fixed pause after its first one): new HTTPS connections made all
//   through a reload whose new workers bind HTTPS late are all served; a replacement that never
//   says so is given up after DREAM_PROXY_WORKER_START_TIMEOUT_MS and the old worker keeps serving;
// - a worker that dies of a start-up error (exit 2, ProxyStartupError) is not re-forked forever:
//   the proxy stops with that code and the worker's fatal line, as a single process does; during a
//   reload the old workers keep serving instead; a worker that crashes after serving is re-forked.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mainProcessSuite, spawnMain, tlsRequest, type MainProcess } from './proxy-helpers.js';
import { freePort } from './tls-pebble.js';

const TOKEN = 'int_reload';
const HOST = 'web.dream';
const PRELOAD = path.join(__dirname, 'fixtures', 'proxy-preload.ts');
const suite = mainProcessSuite('proxy-reload-', TOKEN, HOST);

interface Proxy extends MainProcess { httpPort: number; httpsPort: number; dataDir: string; keyFile: string; slowFile: string }

/** main.ts with 2 workers on fresh ports and data dir; resolves once both workers listen. */
async function startCluster(env: Record<string, string> = {}): Promise<Proxy> {
  const sub = fs.mkdtempSync(path.join(suite.dir, 'p-'));
  const keyFile = path.join(sub, 'leaf.key');
  fs.copyFileSync(path.join(suite.dir, 'leaf.key'), keyFile);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const slowFile = path.join(sub, 'slow-https');
  const p = spawnMain({
    DREAM_DATA_DIR: path.join(sub, 'data'), DREAM_API_URL: suite.api.url, DREAM_INTERNAL_TOKEN: TOKEN,
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(httpPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_DNS_PORT: '0',
    DREAM_PROXY_WORKERS: '2', DREAM_TLS_CERT_FILE: path.join(suite.dir, 'leaf.pem'), DREAM_TLS_KEY_FILE: keyFile,
    DREAM_ACCESS_LOG: 'off', DREAM_LOG_LEVEL: 'info', TEST_PROXY_SLOW_HTTPS_FILE: slowFile, ...env,
  }, [PRELOAD]);
  suite.procs.push(p);
  await p.seen(/proxy listening[\s\S]*proxy listening/);
  return Object.assign(p, { httpPort, httpsPort, dataDir: path.join(sub, 'data'), keyFile, slowFile });
}

/** One GET over a brand-new TLS connection (no keep-alive; any certificate): the body, or the error's code. */
function httpsGet(port: number): Promise<string> {
  return tlsRequest(port, HOST, '/', { rejectUnauthorized: false, agent: false, timeoutMs: 5000 })
    .then((r) => (r.status === 200 ? r.body : `HTTP ${r.status}`), (e: NodeJS.ErrnoException) => e.code ?? e.message);
}

/** A new HTTPS connection every `everyMs` until stop(); then how many were served and how the rest failed. */
function constantHttps(port: number, everyMs = 20) {
  const results: Promise<string>[] = [];
  const timer = setInterval(() => results.push(httpsGet(port)), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      const all = await Promise.all(results);
      const failed: Record<string, number> = {};
      for (const r of all) if (r !== 'ok') failed[r] = (failed[r] ?? 0) + 1;
      return { total: all.length, ok: all.filter((r) => r === 'ok').length, failed };
    },
  };
}

const pidsOf = (out: string, msg: string) => out.split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).map((l) => (JSON.parse(l) as { pid: number }).pid);

describe('SIGHUP reload (2 workers)', () => {
  it('retires an old worker only once its replacement listens on HTTPS too: 0 failed new HTTPS connections', async () => {
    const p = await startCluster();
    // Every replacement binds HTTPS 2.5 s after plain HTTP.
    fs.writeFileSync(p.slowFile, '2500');
    const load = constantHttps(p.httpsPort);
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded/, 40_000);
    await new Promise((r) => setTimeout(r, 300));
    const r = await load.stop();
    console.log('reload with HTTPS bound 2.5 s late, new HTTPS connections:', r);
    expect(r.failed).toEqual({});
    expect(r.ok).toBeGreaterThan(100);
    expect(pidsOf(p.out(), 'proxy listening')).toHaveLength(4);
  }, 60_000);
});

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const count = (out: string, s: string) => out.split(s).length - 1;

describe('SIGHUP reload (2 workers), when a replacement does not come up', () => {
  it('gives up on one that never reports listening (DREAM_PROXY_WORKER_START_TIMEOUT_MS), stops it and keeps the old workers', async () => {
    // 6 s: a worker starting on a loaded box (CI beside other work) took over 3 s to reach its listen().
    const p = await startCluster({ DREAM_PROXY_WORKER_START_TIMEOUT_MS: '6000' });
    const before = pidsOf(p.out(), 'proxy listening');
    fs.writeFileSync(p.slowFile, 'never');
    const load = constantHttps(p.httpsPort);
    p.child.kill('SIGHUP');
    await p.seen(/reload stopped: a new proxy worker did not report listening within 6000 ms \(DREAM_PROXY_WORKER_START_TIMEOUT_MS\); the old worker keeps serving/, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const r = await load.stop();
    expect(r.failed).toEqual({});
    expect(p.out()).not.toContain('proxy workers reloaded');
    expect(before.every(alive)).toBe(true);
    // The replacement that hung is gone, not left as a third worker.
    const hung = p.out().split('\n').filter((l) => l.includes('test preload: HTTPS listener binds never')).map((l) => (JSON.parse(l) as { pid: number }).pid);
    expect(hung).toHaveLength(1);
    await expect.poll(() => alive(hung[0]!), { timeout: 5000 }).toBe(false);
    // The next reload, with replacements that do come up, goes through.
    fs.rmSync(p.slowFile);
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded/, 30_000);
    await expect.poll(() => before.some(alive), { timeout: 15_000 }).toBe(false);
    expect(await httpsGet(p.httpsPort)).toBe('ok');
  }, 90_000);

  it('keeps the old workers when the replacement stops on a start-up error, and does not re-fork it', async () => {
    const p = await startCluster();
    const before = pidsOf(p.out(), 'proxy listening');
    const key = fs.readFileSync(p.keyFile);
    fs.rmSync(p.keyFile);
    const load = constantHttps(p.httpsPort);
    p.child.kill('SIGHUP');
    await p.seen(/reload stopped: a new proxy worker exited before listening \(code 2; see its fatal line\); the old worker keeps serving/, 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    const r = await load.stop();
    expect(r.failed).toEqual({});
    expect(count(p.out(), '"code":"SETTING_FILE_UNREADABLE"')).toBe(1);
    expect(p.out()).not.toContain('proxy worker died; starting another');
    expect(before.every(alive)).toBe(true);
    expect(p.child.exitCode).toBeNull();
    // Mended: the next reload goes through.
    fs.writeFileSync(p.keyFile, key);
    p.child.kill('SIGHUP');
    await p.seen(/proxy workers reloaded/, 30_000);
    expect(await httpsGet(p.httpsPort)).toBe('ok');
  }, 90_000);
});

describe('a worker that dies (2 workers)', () => {
  it('of a start-up error: the proxy stops with exit 2 and the worker\'s fatal line, instead of re-forking it forever', async () => {
    const p = await startCluster();
    const [victim] = pidsOf(p.out(), 'proxy listening');
    // The key file goes away while the proxy runs; then a worker crashes and its re-fork cannot start.
    fs.rmSync(p.keyFile);
    process.kill(victim!, 'SIGKILL');
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
    expect(code, p.out().slice(-3000)).toBe(2);
    const out = p.out();
    const fatal = out.split('\n').filter((l) => l.includes('"code":"SETTING_FILE_UNREADABLE"'));
    expect(fatal).toHaveLength(1);
    expect(JSON.parse(fatal[0]!)).toMatchObject({ level: 60, code: 'SETTING_FILE_UNREADABLE' });
    expect(JSON.parse(fatal[0]!).msg).toContain(`DREAM_TLS_KEY_FILE (${p.keyFile})`);
    expect(out).toContain('a proxy worker stopped at start-up (see its fatal line); stopping the proxy');
    expect(out).not.toMatch(/\n\s+at /);
    // Every worker is gone with it.
    for (const pid of pidsOf(out, 'proxy listening')) expect(alive(pid)).toBe(false);
  }, 60_000);

  it('after serving (a crash): it is re-forked and the proxy keeps serving', async () => {
    const p = await startCluster();
    const [victim, other] = pidsOf(p.out(), 'proxy listening');
    process.kill(victim!, 'SIGKILL');
    await p.seen(/proxy worker died; starting another[\s\S]*proxy listening/);
    await expect.poll(() => pidsOf(p.out(), 'proxy listening').length, { timeout: 20_000 }).toBe(3);
    expect(alive(other!)).toBe(true);
    expect(p.child.exitCode).toBeNull();
    expect(await httpsGet(p.httpsPort)).toBe('ok');
  }, 60_000);
});
