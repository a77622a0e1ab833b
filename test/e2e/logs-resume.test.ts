// Log tail through the real platform: a container printing numbered lines; the client drops its
// connection, resumes with its cursor across a redeploy and an api restart → every number exactly once.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, gitRepo, push, startPlatform, type Platform } from './platform.js';
import { open, until, type Client } from './logs-ws.js';

const PRINTER = (tag: string) => `
const run = '${tag}-' + Math.random().toString(36).slice(2, 8);
let i = 0;
setInterval(() => { console.log('L ' + run + ' ' + i++); }, 5);
require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);
`;

let p: Platform;
beforeAll(async () => { p = await startPlatform({ DREAM_LOG_POLL_MS: '200', DREAM_WS_QUEUE_BYTES: '65536' }); }, 120_000);
afterAll(async () => { await p?.request('DELETE', '/v1/apps/lognum'); await p?.request('DELETE', '/v1/apps/logflood'); await p?.stop(); }, 60_000);

/** Runtime "L <run> <n>" lines of a client, as [run, n]. */
const numbered = (c: Client) => c.msgs.filter((m) => typeof m.line === 'string' && m.line.startsWith('L ')).map((m) => m.line.split(' ').slice(1) as [string, string]);

describe('log tail resume', () => {
  it('delivers every numbered line exactly once across dropped connections, a redeploy and an api restart', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'lognum' })).status).toBe(201);
    const dir = await gitRepo('dockerfile-app', { 'server.js': PRINTER('a') });
    expect((await push(p, dir, 'lognum')).code).toBe(0);
    const seen: Array<[string, string]> = [];
    let cursor: number | undefined;
    const session = async (min: number, extra: () => boolean = () => true) => {
      const c = await open(p, `/v1/apps/lognum/logs?follow=1&source=runtime${cursor !== undefined ? `&since=${cursor}` : ''}`);
      await until(() => numbered(c).length >= min && extra());
      c.ws.terminate(); // a dropped connection, not a goodbye
      seen.push(...numbered(c));
      cursor = c.msgs.at(-1)!.cursor as number;
    };
    await session(50);
    await new Promise((r) => setTimeout(r, 300));
    await session(50);
    await commit(dir, { 'server.js': PRINTER('b') });
    expect((await push(p, dir, 'lognum')).code).toBe(0);
    await session(50, () => seen.length >= 0);
    await p.restart('api');
    await new Promise((r) => setTimeout(r, 500));
    await session(100);
    // Keep going until the new release's lines are in, so the redeploy is covered for sure.
    while (!seen.some(([run]) => run.startsWith('b-'))) await session(50);
    const byRun = new Map<string, number[]>();
    for (const [run, n] of seen) byRun.set(run, [...(byRun.get(run) ?? []), Number(n)]);
    expect([...byRun.keys()].some((r) => r.startsWith('a-'))).toBe(true);
    expect([...byRun.keys()].some((r) => r.startsWith('b-'))).toBe(true);
    for (const [run, ns] of byRun) {
      // Every number from 0 up to the highest seen, each once, in order.
      expect(ns, run).toEqual(Array.from({ length: ns.length }, (_, i) => i));
    }
  }, 240_000);

  it('a stalled reader while the app writes 1M lines: api memory stays bounded and the reader is told it lagged', async () => {
    expect((await p.request('POST', '/v1/apps', { name: 'logflood' })).status).toBe(201);
    const flood = `
let i = 0;
const burst = () => { let s = ''; for (let k = 0; k < 1000 && i < 1000000; k++) s += 'flood line ' + (i++) + '\\n'; process.stdout.write(s, () => { if (i < 1000000) setImmediate(burst); }); };
require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT, () => setTimeout(burst, 500));
`;
    const dir = await gitRepo('dockerfile-app', { 'server.js': flood });
    const c = await open(p, '/v1/apps/logflood/logs?follow=1&source=runtime&tail=0');
    // Stall: stop reading the socket.
    (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p.api.pid}/status`, 'utf8'))![1]) / 1024;
    const before = rss();
    expect((await push(p, dir, 'logflood')).code).toBe(0);
    let peak = before;
    let last = 0;
    for (let i = 0; i < 240; i++) {
      peak = Math.max(peak, rss());
      // Far past the queue limit: the server has told the reader it lagged; let it read that now.
      if (last > 200_000) (c.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const n = await fetch(`${p.apiUrl}/v1/apps/logflood/logs?source=runtime&tail=1`, { headers: { authorization: `Bearer ${p.token}` } }).then((x) => x.text());
      last = Number(/flood line (\d+)/.exec(n)?.[1] ?? 0);
      if (last >= 999_999) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`stalled reader: api RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB while 1M lines were written (last stored: ${last})`);
    expect(last).toBe(999_999);
    expect(peak - before).toBeLessThan(200);
    const lag = await until(() => c.msgs.find((m) => m.type === 'lagged'), 20_000);
    expect(typeof lag.resumeFrom).toBe('number');
    expect(await c.closed).toBe(4008);
  }, 240_000);
});
