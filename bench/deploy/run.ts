// bench/deploy: median warm redeploy time — `git push` of a one-line change to a small Dockerfile app
// until the new body is served through the proxy — next to raw `docker build` + `docker run` + first
// 200 of the same change, in the same run. Usage: npx tsx bench/deploy/run.ts [rounds=5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commit, freePort, getVia, gitRepo, push, run, startPlatform } from '../../test/e2e/platform.js';
import { ensureDocker } from '../../scripts/ensure-docker.js';
import { ensureBaseImages } from '../../scripts/base-images.js';

const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const SERVER = (v: string) => `require('http').createServer((q, s) => s.end('${v}')).listen(process.env.PORT || 5000);\n`;

async function until(fn: () => Promise<boolean>, timeoutMs = 120_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) { if (await fn().catch(() => false)) return; await new Promise((r) => setTimeout(r, 10)); }
  throw new Error('timed out');
}

const pushTimes: number[] = [];

async function dreamnet(): Promise<number[]> {
  const p = await startPlatform({ DREAM_LOG_LEVEL: 'error' });
  try {
    await p.request('POST', '/v1/apps', { name: 'bench' });
    const dir = await gitRepo('dockerfile-app', { 'server.js': SERVER('v0') });
    const first = await push(p, dir, 'bench');
    if (first.code !== 0) throw new Error(first.output);
    const times: number[] = [];
    for (let i = 1; i <= rounds; i++) {
      await commit(dir, { 'server.js': SERVER(`v${i}`) });
      // Measured like the baseline: from the push until the new body is served (the push itself
      // returns a little later, once the old replica has stopped; printed separately).
      const t0 = performance.now();
      const pushing = push(p, dir, 'bench').then((r) => { pushTimes.push(performance.now() - t0); return r; });
      await until(async () => (await getVia(p.proxyPort, 'bench.dream')).body === `v${i}`);
      times.push(performance.now() - t0);
      const r = await pushing;
      if (r.code !== 0) throw new Error(r.output);
    }
    await p.request('DELETE', '/v1/apps/bench');
    return times;
  } finally { await p.stop(); }
}

async function rawDocker(): Promise<number[]> {
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-raw-'));
  fs.cpSync(path.resolve('test/e2e/fixtures/dockerfile-app'), ctx, { recursive: true });
  const times: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    fs.writeFileSync(path.join(ctx, 'server.js'), SERVER(`raw${i}`));
    await run('docker', ['rm', '-f', `dream-bench-raw-${i}`]).catch(() => {});
    const port = await freePort();
    const t0 = performance.now();
    await run('docker', ['build', '-q', '-t', 'dream-bench-raw:latest', ctx]);
    await run('docker', ['run', '-d', '--name', `dream-bench-raw-${i}`, '-p', `127.0.0.1:${port}:5000`, 'dream-bench-raw:latest']);
    // node:http, not fetch: right after `docker run`, docker-proxy accepts and drops connections,
    // and Node 20's fetch can then leave its promise pending with nothing keeping the process alive.
    await until(async () => { const r = await getVia(port, '127.0.0.1'); return r.status === 200 && r.body === `raw${i}`; });
    if (i > 0) times.push(performance.now() - t0); // round 0 warms the cache, like the first push
    await run('docker', ['rm', '-f', `dream-bench-raw-${i}`]);
  }
  await run('docker', ['rmi', '-f', 'dream-bench-raw:latest']).catch(() => {});
  return times;
}

await ensureDocker();
await ensureBaseImages();
const raw = await rawDocker();
const ours = await dreamnet();
const fmt = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(2)).join(' ');
console.log(`rounds: ${rounds} (after one warm-up each), machine: ${os.cpus().length} cores`);
console.log(`raw docker build+run+first 200:  median ${(median(raw) / 1000).toFixed(2)} s   [${fmt(raw)}]`);
console.log(`dreamnet git push → new body:    median ${(median(ours) / 1000).toFixed(2)} s   [${fmt(ours)}]`);
console.log(`dreamnet git push exits 0:       median ${(median(pushTimes) / 1000).toFixed(2)} s   [${fmt(pushTimes)}]`);
console.log(`ratio dreamnet / raw docker:     ${(median(ours) / median(raw)).toFixed(2)}x   (target ≤ 2.5x and ≤ 3 s)`);
