// The latency phase: p99 at a fixed request rate (half of our saturation), direct vs through our
// proxy, nginx and a bare Node relay, in interleaved rounds (each round measures every target back to back).
// Judged per round: (proxy p99 − direct p99) of the same round, then the median over rounds — a
// burst of other load on the shared box moves one round's pair together, not one side of a
// comparison made minutes apart. The difference of the median p99s is printed beside it.
import os from 'node:os';
import path from 'node:path';
import { run } from './procs.js';
import type { Figures } from './wrk.js';

export interface RateTarget { name: string; url: string; pids: () => number[] }
type Measure = (name: string, url: string, pids: () => number[], rate: number) => Promise<Figures>;

export const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const signed = (ms: number) => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`;

/** Runs `rounds` interleaved rounds; the first `baselines` targets are baselines (direct), each target after them judged against each. */
export async function p99AtRate(targets: RateTarget[], rate: number, rounds: number, measure: Measure, baselines = 1): Promise<{ rows: Figures[]; lines: string[] }> {
  const runs = targets.map(() => [] as Figures[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, t] of targets.entries()) runs[i]!.push(await measure(`${t.name} @${rate}/s`, t.url, t.pids, rate));
  }
  const rows = runs.map((fs) => [...fs].sort((a, b) => a.p99ms - b.p99ms)[Math.floor(fs.length / 2)]!);
  const lines = [`p99 per round at ${rate}/s: ${targets.map((t, i) => `${t.name} ${runs[i]!.map((f) => f.p99).join(' / ')}`).join('; ')}`];
  for (let b = 0; b < baselines; b++) {
    const base = targets[b]!.name;
    for (let i = baselines; i < targets.length; i++) {
      const deltas = runs[i]!.map((f, r) => f.p99ms - runs[b]![r]!.p99ms);
      // p90 too: below the box's stalls (stalls.mjs), it shows what the hop itself adds.
      const p90 = med(runs[i]!.map((f, r) => f.p90ms - runs[b]![r]!.p90ms));
      lines.push(`${targets[i]!.name} p99 above ${base} at ~${rate} req/s (achieved ${rows[i]!.rps.toFixed(0)}): per round ${deltas.map(signed).join(', ')} → median ${signed(med(deltas))} (difference of median p99s ${signed(rows[i]!.p99ms - rows[b]!.p99ms)}; p90 above ${base}, median ${signed(p90)})`);
    }
  }
  return { rows, lines };
}

/**
 * How late this box wakes an idle sleeper (cyclictest, rt-tests): every hop a proxy adds is a
 * process wake-up, so this bounds what any proxy's p99 can add here. Skipped without cyclictest.
 */
export async function wakeupLatency(seconds = 10): Promise<string> {
  const out = await run('cyclictest', ['-q', '-D', String(seconds), '-i', '1000', '-t', '1', '-h', '20000'], { maxBuffer: 8 << 20 })
    .then((r) => r.stdout, () => '');
  if (!out) return 'timer wake-up latency of this box: cyclictest not installed (apt-get install -y rt-tests)';
  const hist: Array<[number, number]> = [];
  for (const line of out.split('\n')) {
    const m = /^(\d+)\s+(\d+)/.exec(line);
    if (m && Number(m[2]) > 0) hist.push([Number(m[1]), Number(m[2])]);
  }
  const total = hist.reduce((s, [, n]) => s + n, 0);
  const pct = (p: number) => { let c = 0; for (const [us, n] of hist) if ((c += n) >= total * p) return us; return NaN; };
  return `timer wake-up latency of this box, idle (cyclictest, 1 ms interval, ${seconds} s): p50 ${pct(0.5)} µs, p99 ${pct(0.99)} µs, p99.9 ${pct(0.999)} µs, max ${/Max Latencies:\s+(\d+)/.exec(out)?.[1] ?? '?'} µs`;
}

/**
 * How much time this box takes from a process that is running (stalls.mjs, one busy loop per CPU
 * at once): a proxy hop is one more process whose stall holds every request in flight.
 */
export async function runningStalls(seconds = 5): Promise<string> {
  const probe = path.join(path.dirname(new URL(import.meta.url).pathname), 'stalls.mjs');
  type Probe = { lostPct: number; over50us: number; over1ms: number; maxMs: number };
  const runs = await Promise.all(os.cpus().map(() => run(process.execPath, [probe, String(seconds)]).then((r) => JSON.parse(r.stdout) as Probe)))
    .catch((e: Error) => e);
  if (runs instanceof Error) return `time this box takes from a running process: probe failed (${runs.message})`;
  return `time this box takes from a running process (a busy loop per CPU, ${seconds} s): ${runs.map((r) => `${r.lostPct.toFixed(1)} % lost in ${r.over50us} gaps > 50 µs, ${r.over1ms} > 1 ms, max ${r.maxMs.toFixed(1)} ms`).join('; ')}`;
}
