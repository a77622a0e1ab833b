// bench/logs: the log pipeline of the real platform (container stdout → Docker json-file → collector →
// store on disk → WebSocket). Prints
//   1. latency container-write → client-receive, p50/p99, at 1k lines/s
//   2. the highest lossless lines/s for one app (rates go up until a line is missing or the client lags)
//   3. api RSS with one stalled reader while the app writes 1M lines (and that the reader is told it lagged)
// Usage: npx tsx bench/logs/run.ts [--quick]. Targets: p99 ≤ 50 ms, ≥ 100k lines/s, RSS growth bounded.
import fs from 'node:fs';
import WebSocket from 'ws';
import { getVia, gitRepo, push, startPlatform, type Platform } from '../../test/e2e/platform.js';
import { EMITTER } from './emitter.js';

const quick = process.argv.includes('--quick');
const APP = 'benchlogs';
const now = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

interface Tail { ws: WebSocket; got: Map<string, number[]>; latency: Map<string, number[]>; lagged: boolean; closed: Promise<number> }

function tail(p: Platform): Promise<Tail> {
  const ws = new WebSocket(`${p.apiUrl.replace('http', 'ws')}/v1/apps/${APP}/logs?follow=1&source=runtime&tail=0`, { headers: { authorization: `Bearer ${p.token}` } });
  const t: Tail = { ws, got: new Map(), latency: new Map(), lagged: false, closed: new Promise((r) => ws.on('close', r)) };
  ws.on('message', (d: Buffer) => {
    const at = now();
    const m = JSON.parse(String(d)) as { line?: string; type?: string };
    if (m.type === 'lagged') { t.lagged = true; return; }
    const f = m.line?.split(' ');
    if (!f || f[0] !== 'B') return;
    const tag = f[1]!;
    if (!t.got.has(tag)) { t.got.set(tag, []); t.latency.set(tag, []); }
    t.got.get(tag)!.push(Number(f[2]));
    t.latency.get(tag)!.push(at - Number(f[3]));
  });
  return new Promise((resolve, reject) => { ws.on('open', () => resolve(t)); ws.on('error', reject); });
}

async function emit(p: Platform, q: string): Promise<void> {
  const r = await getVia(p.proxyPort, `${APP}.dream`, `/emit?${q}`);
  if (r.body !== 'started') throw new Error(`emit: ${r.status} ${r.body}`);
}

/** Waits until `n` lines of `tag` arrived (or the client lagged / `ms` passed); true when all came, in order, once. */
async function complete(t: Tail, tag: string, n: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !t.lagged && (t.got.get(tag)?.length ?? 0) < n) await sleep(20);
  const seqs = t.got.get(tag) ?? [];
  return !t.lagged && seqs.length === n && seqs.every((s, i) => s === i);
}

async function main() {
  const p = await startPlatform({ DREAM_LOG_LEVEL: 'error', DREAM_LOG_POLL_MS: process.env.DREAM_LOG_POLL_MS ?? '200',
    // e.g. BENCH_NODE_OPTIONS=--cpu-prof to profile the platform's processes.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}) });
  try {
    await p.request('POST', '/v1/apps', { name: APP });
    const pushed = await push(p, await gitRepo('dockerfile-app', { 'server.js': EMITTER }), APP);
    if (pushed.code !== 0) throw new Error(pushed.output);
    await sleep(1000);

    // 1. Latency at 1k lines/s.
    let t = await tail(p);
    const secs = quick ? 5 : 10;
    await emit(p, `rate=1000&secs=${secs}&tag=lat`);
    const ok = await complete(t, 'lat', 1000 * secs, secs * 1000 + 15_000);
    const lat = t.latency.get('lat') ?? [];
    console.log(`latency at 1k lines/s (${lat.length} lines${ok ? ", none lost" : ", LOST LINES"}): p50 ${pct(lat, 0.5).toFixed(1)} ms, p90 ${pct(lat, 0.9).toFixed(1)} ms, p99 ${pct(lat, 0.99).toFixed(1)} ms, max ${pct(lat, 1).toFixed(1)} ms; over 50 ms: ${(100 * lat.filter((x) => x > 50).length / Math.max(1, lat.length)).toFixed(1)}%`);

    // 2. Highest lossless rate: 5 s at each rate until a line is missing or the client lags.
    let best = 0;
    for (const rate of quick ? [20_000, 50_000, 100_000, 150_000] : [10_000, 25_000, 50_000, 75_000, 100_000, 125_000, 150_000, 200_000, 300_000]) {
      if (t.lagged) { t.ws.close(); t = await tail(p); }
      const tag = `r${rate}`;
      const n = rate * 5;
      const t0 = now();
      await emit(p, `rate=${rate}&secs=5&tag=${tag}`);
      const lossless = await complete(t, tag, n, 60_000);
      const got = t.got.get(tag) ?? [];
      const l = t.latency.get(tag) ?? [];
      const wall = (now() - t0) / 1000;
      const distinct = new Set(got).size;
      console.log(`  ${rate} lines/s for 5 s: ${lossless ? 'lossless' : t.lagged ? 'client lagged' : `received ${got.length}/${n} (${distinct} distinct, ${got.length - distinct} repeated, ${n - distinct} missing)`}; delivered ${(got.length / wall).toFixed(0)} lines/s over ${wall.toFixed(1)} s; latency p50 ${pct(l, 0.5)?.toFixed(0)} ms p99 ${pct(l, 0.99)?.toFixed(0)} ms`);
      if (!lossless) break;
      best = rate;
    }
    console.log(`highest lossless rate: ${best} lines/s`);
    t.ws.close();

    // 3. One stalled reader while the app writes 1M lines as fast as it can.
    const stalled = await tail(p);
    (stalled.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const before = rssMb(p.api.pid!);
    let peak = before;
    const total = quick ? 300_000 : 1_000_000;
    const t0 = Date.now();
    await emit(p, `rate=0&count=${total}&tag=flood`);
    let stored = 0;
    while (Date.now() - t0 < 180_000) {
      peak = Math.max(peak, rssMb(p.api.pid!));
      const r = await fetch(`${p.apiUrl}/v1/apps/${APP}/logs?source=runtime&tail=1`, { headers: { authorization: `Bearer ${p.token}` } }).then((x) => x.text());
      stored = Number(/B flood (\d+)/.exec(r)?.[1] ?? 0) + 1;
      if (stored >= total) break;
      await sleep(250);
    }
    const secsFlood = (Date.now() - t0) / 1000;
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const code = await Promise.race([stalled.closed, sleep(20_000).then(() => 'open')]);
    console.log(`stalled reader, ${total} lines stored in ${secsFlood.toFixed(1)} s (${(total / secsFlood).toFixed(0)} lines/s): api RSS ${before.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB (+${(peak - before).toFixed(0)} MB); reader ${stalled.lagged ? 'got "lagged"' : 'got NO lag message'}, closed ${code}`);
    await p.request('DELETE', `/v1/apps/${APP}`);
  } finally {
    await p.stop();
  }
}

await main();
