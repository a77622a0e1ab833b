// The proxy's primary process when it runs more than one worker (DREAM_PROXY_WORKERS, default one
// per core): Node's HTTP stack is single-threaded, so each core gets a worker with the whole proxy
// (its own listeners on the shared ports, its own route poller and proxy id — the api waits for
// every live proxy's ack, so a switch is acked only when every worker drained). The primary only
// forks, re-forks a worker that died, and passes SIGTERM/SIGINT on. Only the first worker slot
// serves the .dream DNS (DREAM_DNS_PORT=0 for the others: one UDP/TCP listener, one zone).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

export interface Supervisor {
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Replaces every worker, one at a time, with no moment without a listener (SIGHUP). */
  reload(): Promise<void>;
}

export function superviseWorkers(count: number, log: Logger): Supervisor {
  // Workers accept on the shared socket themselves: the primary relaying every connection
  // (round-robin) would cost a core's worth of CPU at high connection rates.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  // Workers being replaced by reload(): their exit is expected, not a crash to re-fork.
  const retiring = new WeakSet<Worker>();
  const recentDeaths: number[] = [];
  const slots = new WeakMap<Worker, number>();
  const fork = (slot: number): Worker => {
    const w = cluster.fork(slot === 0 ? {} : { DREAM_DNS_PORT: '0' });
    slots.set(w, slot);
    w.on('exit', (code, signal) => {
      if (stopping || retiring.has(w)) return;
      const now = Date.now();
      recentDeaths.push(now);
      while (recentDeaths.length && recentDeaths[0]! < now - 60_000) recentDeaths.shift();
      // A worker that keeps dying (bad port, bad setting) gets a slower restart, not a hot loop.
      const delay = recentDeaths.length > 5 ? 5000 : 100;
      log.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'proxy worker died; starting another');
      setTimeout(() => { if (!stopping) fork(slot); }, delay).unref();
    });
    return w;
  };
  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'proxy workers started');

  return {
    async reload() {
      // The primary holds the shared listening sockets; a new worker takes them before the old one
      // lets go, so connections are never refused. The old worker drains like on SIGTERM.
      const old = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      for (const w of old) {
        const next = fork(slots.get(w) ?? 1);
        await new Promise<void>((resolve, reject) => {
          next.once('listening', () => resolve());
          next.once('exit', () => reject(new Error('a new proxy worker exited before listening')));
        });
        await new Promise((r) => setTimeout(r, 300)); // its other listeners (HTTPS) come right after
        retiring.add(w);
        w.process.kill('SIGTERM');
      }
      log.info({ workers: old.length }, 'proxy workers reloaded');
    },
    async stop(signal) {
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());
      await Promise.all(alive.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.process.kill(signal);
      })));
    },
  };
}
