// The whole box's CPU at one fixed request rate, per hop: is the p99 at half our saturation a box
// running out of cores, or one process running its own core too full? Each target (direct, our
// proxy with one and with `--workers2` workers, nginx, the bare Node relay) gets the same paced wrk
// load in interleaved rounds; for each, /proc/stat's busy time over the measured seconds (wrk, the
// app and the hop together, of 200 % on this 2-CPU box) beside the hop's own CPU a request and p99.
//   npx tsx bench/proxy/box.ts [--rate 5000] [--proto https] [--rounds 3] [--duration 8] [--workers2 2]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { med, signed } from './latency.js';
import { arg, bundledProxy, fakeApi, freePort, HOST, selfSigned, startNginx, startOurs, startRelay, startUpstream, stopAll } from './procs.js';
import { withChildren, wrk } from './wrk.js';

const rate = Number(arg('rate', '5000'));
const proto = arg('proto', 'https') as 'http' | 'https';
const rounds = Math.max(1, Number(arg('rounds', '3')));
const duration = Number(arg('duration', '8'));
const workers2 = arg('workers2', '2');
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-box-'));
const cpus = os.cpus().length;

/** Busy and total jiffies of all CPUs (/proc/stat's first line; idle and iowait count as idle). */
function jiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

interface Target { name: string; url: string; pids: () => number[] }

async function main(): Promise<void> {
  const { cert, key } = await selfSigned(tmp);
  const app = await freePort();
  const upstream = await startUpstream(root, app);
  const api = await fakeApi(app);
  const url = (port: number) => `${proto}://127.0.0.1:${port}/`;
  const targets: Target[] = [{ name: 'direct', url: `http://127.0.0.1:${app}/`, pids: () => [upstream.pid!] }];
  const bundle = await bundledProxy(root, 'proxy-box'); // one build for both worker counts
  for (const workers of ['1', workers2]) {
    const ports = { http: await freePort(), https: await freePort() };
    const p = await startOurs(root, bundle, { api, dataDir: path.join(tmp, `data-${workers}`), ...ports, cert, key, workers });
    targets.push({ name: `dream proxy (${workers} worker${workers === '1' ? '' : 's'})`, url: url(ports[proto]), pids: () => withChildren(p.pid!) });
  }
  const l = { http: await freePort(), https: await freePort(), upstream: app, cert, key, tmp };
  const nginx = await startNginx(root, l);
  if (nginx) targets.push({ name: 'nginx', url: url(l[proto]), pids: () => withChildren(nginx.pid!) });
  const relayPort = await freePort();
  const relay = await startRelay(root, relayPort, app, proto === 'https' ? { cert, key } : undefined);
  targets.push({ name: `node ${proto === 'https' ? 'tls' : 'tcp'} relay`, url: url(relayPort), pids: () => [relay.pid!] });

  console.log(`${rounds} rounds of ${duration} s at ~${rate} req/s (${proto}; direct over http), ${cpus} CPUs, node ${process.version}`);
  const seen = new Map<string, { box: number[]; hop: number[]; above: number[] }>();
  for (let r = 1; r <= rounds; r++) {
    let direct = NaN; // this round's direct p99: each target is judged against it, as in latency.ts
    for (const t of targets) {
      let before = jiffies();
      // wrk() asks for the pids right after its warm-up: the measured seconds start there.
      const f = await wrk(t.name, t.url, { connections: 50, duration, host: HOST, tmp, rate, pids: () => { before = jiffies(); return t.pids(); } });
      const after = jiffies();
      const box = (100 * cpus * (after.busy - before.busy)) / (after.total - before.total);
      if (t === targets[0]) direct = f.p99ms;
      const s = seen.get(t.name) ?? { box: [], hop: [], above: [] };
      seen.set(t.name, s);
      s.box.push(box); s.hop.push(f.cpuUs); s.above.push(f.p99ms - direct);
      console.log(`round ${r} ${t.name}: box ${box.toFixed(0)} % of ${cpus * 100}, ${((box / 100) * 1e6 / f.rps).toFixed(0)} µs of box CPU a request, its own ${f.cpuUs.toFixed(0)} µs, p99 ${f.p99}, ${f.rps.toFixed(0)} req/s, errors ${f.errors}`);
    }
  }
  for (const [name, s] of seen) {
    const above = name === targets[0]!.name ? '' : `, p99 above direct ${signed(med(s.above))}`;
    console.log(`${name}: median box ${med(s.box).toFixed(0)} % of ${cpus * 100}, own CPU ${med(s.hop).toFixed(0)} µs a request${above}`);
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => stopAll());
