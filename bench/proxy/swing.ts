// Is ours' CPU a request a property of the process or of the moment? run.ts's fixed-rate rows put
// ours at 57 µs a request over HTTPS in one run and 98 in the next for the same code. Here ours and
// the bare Node relay take turns at one paced rate (`--pairs` back-to-back runs each) in
// `--processes` fresh proxy processes; the relay runs throughout as the baseline. A proxy that
// happened to be compiled worse would show as one process's figures all high; the box's slow
// windows move both targets.
//   npx tsx bench/proxy/swing.ts [--rate 7500] [--proto https] [--processes 3] [--pairs 4] [--duration 5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bundledProxy, fakeApi, freePort, HOST, selfSigned, startOurs, startRelay, startUpstream, stopAll } from './procs.js';
import { med } from './latency.js';
import { wrk, type Figures } from './wrk.js';

const rate = Number(arg('rate', '7500'));
const proto = arg('proto', 'https') as 'http' | 'https';
const processes = Number(arg('processes', '3'));
const pairs = Number(arg('pairs', '4'));
const duration = Number(arg('duration', '5'));
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-swing-'));

const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} µs (median ${med(xs).toFixed(0)})`;

async function main(): Promise<void> {
  const { cert, key } = await selfSigned(tmp);
  const app = await freePort();
  await startUpstream(root, app);
  const api = await fakeApi(app);
  const bundle = await bundledProxy(root, 'proxy-swing');
  const relayPort = await freePort();
  const relay = await startRelay(root, relayPort, app, proto === 'https' ? { cert, key } : undefined);
  const paced = (name: string, port: number, pid: number): Promise<Figures> =>
    wrk(name, `${proto}://127.0.0.1:${port}/`, { connections: 50, duration, host: HOST, tmp, rate, pids: () => [pid] });
  console.log(`${duration} s runs at ~${rate} req/s (${proto}), ours then the relay, ${pairs} pairs in each of ${processes} proxy processes`);
  const all = { ours: [] as number[], relay: [] as number[] };
  for (let n = 0; n < processes; n++) {
    const ports = { http: await freePort(), https: await freePort() };
    const p = await startOurs(root, bundle, { api, dataDir: path.join(tmp, `data${n}`), ...ports, cert, key, workers: '1' });
    const mine = { ours: [] as number[], relay: [] as number[] };
    for (let i = 0; i < pairs; i++) {
      const a = await paced('ours', ports[proto], p.pid!);
      const b = await paced('relay', relayPort, relay.pid!);
      mine.ours.push(a.cpuUs); mine.relay.push(b.cpuUs);
      console.log(`  process ${n + 1}, pair ${i + 1}: ours ${a.cpuUs.toFixed(0)} µs a request, p99 ${a.p99}; relay ${b.cpuUs.toFixed(0)} µs, p99 ${b.p99}`);
    }
    console.log(`process ${n + 1}: ours ${spread(mine.ours)}, relay ${spread(mine.relay)}`);
    all.ours.push(...mine.ours); all.relay.push(...mine.relay);
    // Gone before the next process starts (its CPU would count against the next one's box); one
    // that already died would never emit 'exit' again.
    if (p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await gone;
    }
  }
  console.log(`all: ours ${spread(all.ours)}, relay ${spread(all.relay)}; ours over the relay in the same pair, median ${med(all.ours.map((o, i) => o - all.relay[i]!)).toFixed(0)} µs`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => { stopAll(); fs.rmSync(tmp, { recursive: true, force: true }); });
