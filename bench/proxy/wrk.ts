// wrk runs and what we read from them: req/s, p50/p99, errors, and CPU per request of the
// processes under test (steadier than req/s on a shared box).
import fs from 'node:fs';
import path from 'node:path';
import { run } from './procs.js';

export interface Figures { name: string; rps: number; p50: string; p99: string; p99ms: number; p90ms: number; errors: string; cpuUs: number }

/** CPU time (user+sys, µs) of processes and their children. */
export function cpuUs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* not Linux, or gone */ }
  }
  return ticks * 10_000;
}

export function withChildren(pid: number): number[] {
  try { return [pid, ...fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)]; } catch { return [pid]; }
}

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

export interface WrkOptions {
  connections: number; duration: number; host: string; pids: () => number[]; tmp: string;
  /** Paced to about this many requests/s instead of saturating. */
  rate?: number;
  /** Connection: close on every request: a new connection (TLS handshake) each time. */
  newConnections?: boolean;
}

/**
 * One wrk run against `url`. With `rate`, each connection waits between requests (wrk's Lua
 * delay()) so the total is about `rate` req/s: a latency figure at a fixed load, not at saturation.
 */
export async function wrk(name: string, url: string, o: WrkOptions): Promise<Figures> {
  // At a fixed rate: one connection per 100 req/s, each pausing 4-14 ms (9 on average, + ~1 ms of
  // round trip) between requests. A fixed 9 ms pause would keep every connection in step: waves of
  // all requests at once every 10 ms, a burst pattern no real traffic has (it tripled even the
  // direct p99). wrk's delay() has millisecond granularity, so the achieved rate is printed.
  // The first request of each connection waits 300 ms more: wrk opens all connections at once, and
  // the requests of the first ones would queue behind the others' TLS handshakes (~100 of them in
  // a few ms) — a start-up burst, not the steady load whose p99 we want (wrk2 skips its first
  // seconds for the same reason). wrk calls delay() before a connection's first request too. The
  // achieved rate printed counts those 300 ms: about 6 % under the target in a 5 s run.
  const threads = 2;
  const conns = o.rate ? Math.max(threads, Math.round(o.rate / 100)) : o.connections;
  const args = [`-t${threads}`, `-c${conns}`, `-d${o.duration}s`, '--latency', '-H', `Host: ${o.host}`];
  if (o.newConnections) args.push('-H', 'Connection: close');
  if (o.rate) {
    const script = path.join(o.tmp, 'rate.lua');
    fs.writeFileSync(script, `local first = ${Math.ceil(conns / threads)}
function delay()
  if first > 0 then first = first - 1; return 300 + math.random(4, 14) end
  return math.random(4, 14)
end
`);
    args.push('-s', script);
  }
  await run('wrk', ['-t1', '-c10', '-d2s', '-H', `Host: ${o.host}`, url]); // warm-up (JIT, pools, TLS sessions)
  const pids = o.pids();
  const c0 = cpuUs(pids);
  const { stdout } = await run('wrk', [...args, url]);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 'NaN');
  const p50 = /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  const p90 = /\s90%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  return {
    name,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 'NaN'),
    p50, p99, p99ms: toMs(p99), p90ms: toMs(p90),
    errors: [/Socket errors:[^\n]*/.exec(stdout)?.[0], /Non-2xx or 3xx responses:[^\n]*/.exec(stdout)?.[0]].filter(Boolean).join('; ') || 'none',
    cpuUs: (cpuUs(pids) - c0) / total,
  };
}
