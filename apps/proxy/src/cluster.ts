// The proxy's primary process when it runs more than one worker (DREAM_PROXY_WORKERS, default one
// per core): Node's HTTP stack is single-threaded, so each core gets a worker with the whole proxy
// (its own listeners on the shared ports, its own route poller and proxy id — the api waits for
// every live proxy's ack, so a switch is acked only when every worker drained). The primary only
// forks, re-forks a worker that died, and passes SIGTERM/SIGINT on. Only the first worker slot
// serves the .dream DNS (DREAM_DNS_PORT=0 for the others: one UDP/TCP listener, one zone).
//
// A worker tells the primary when every one of its listeners listens (reportListening, once
// startProxy returned): a SIGHUP reload retires an old worker only then, never on a guess. A worker
// that exits with STARTUP_EXIT_CODE before that (a ProxyStartupError: what only the operator can
// fix) is not re-forked: a re-fork would stop the same way, forever. The proxy stops with that
// code, as a single process does — except in a reload, where the old workers keep serving.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** The exit code of a proxy stopped by a ProxyStartupError (main.ts fatal()). */
export const STARTUP_EXIT_CODE = 2;

const MSG = 'dream:worker';
type Listening = { [MSG]: 'listening'; ports: number[] };

/** Worker: every listener listens (the ports it serves: plain HTTP, then HTTPS when it runs). */
export function reportListening(ports: number[]): void {
  process.send?.({ [MSG]: 'listening', ports } satisfies Listening, ignoreGonePrimary);
}

/**
 * Worker: the callback for messages to the primary. One sent once the primary is gone (killed)
 * fails; without a callback node emits that as the process's 'error', which nothing handles, and
 * the worker crashed, dropping its connections, instead of draining (main.ts stops it on 'disconnect').
 */
export const ignoreGonePrimary = (): void => {};

/** Primary: the ports in a worker's "every listener listens" message, or null for any other message. */
export function listeningReport(m: unknown): number[] | null {
  const o = m as Partial<Listening> | null;
  return o?.[MSG] === 'listening' && Array.isArray(o.ports) ? o.ports : null;
}

export interface SuperviseOptions {
  /** How long a reload's new worker may take until it reports listening (DREAM_PROXY_WORKER_START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

export interface Supervisor {
  stop(signal: NodeJS.Signals): Promise<void>;
  /**
   * Replaces every serving worker, one at a time, with no moment without a listener (SIGHUP). Called
   * during a reload: one more reload follows it; resolves once that one ended.
   */
  reload(): Promise<void>;
  /**
   * Resolves with the exit code the proxy must stop with once a worker died of a start-up error
   * and the others were stopped (never resolves otherwise).
   */
  failed: Promise<number>;
}

export function superviseWorkers(count: number, log: Logger, opts: SuperviseOptions = {}): Supervisor {
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  // Workers accept on the shared socket themselves: the primary relaying every connection
  // (round-robin) would cost a core's worth of CPU at high connection rates.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let stopping = false;
  let reloading: Promise<void> | null = null;
  let again = false;
  let fail!: (code: number) => void;
  const failed = new Promise<number>((r) => { fail = r; });
  // Workers being replaced by reload(): their exit is expected, not a crash to re-fork.
  const retiring = new WeakSet<Worker>();
  // Workers a reload started that have not reported listening yet: reload() decides their fate.
  const trial = new WeakSet<Worker>();
  // The ports each worker serves, once it reported that every listener listens.
  const serving = new WeakMap<Worker, number[]>();
  const recentDeaths: number[] = [];
  const slots = new WeakMap<Worker, number>();
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());

  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    return Promise.all(alive().map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve());
      w.process.kill(signal);
    }))).then(() => undefined);
  };

  const fork = (slot: number, onTrial = false): Worker => {
    const w = cluster.fork(slot === 0 ? {} : { DREAM_DNS_PORT: '0' });
    slots.set(w, slot);
    if (onTrial) trial.add(w);
    w.on('message', (m) => {
      const ports = listeningReport(m);
      if (ports && !serving.has(w)) serving.set(w, ports);
    });
    w.on('exit', (code, signal) => {
      if (stopping || retiring.has(w) || trial.has(w)) return;
      if (code === STARTUP_EXIT_CODE && !serving.has(w)) {
        // Its own fatal line says what to fix; a re-fork would stop the same way.
        log.error({ pid: w.process.pid, exitCode: code }, 'a proxy worker stopped at start-up (see its fatal line); stopping the proxy');
        void stopAll('SIGTERM').then(() => fail(code));
        return;
      }
      const now = Date.now();
      recentDeaths.push(now);
      while (recentDeaths.length && recentDeaths[0]! < now - 60_000) recentDeaths.shift();
      // A worker that keeps dying (a port it cannot bind) gets a slower restart, not a hot loop.
      const delay = recentDeaths.length > 5 ? 5000 : 100;
      log.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'proxy worker died; starting another');
      setTimeout(() => { if (!stopping) fork(slot); }, delay).unref();
    });
    return w;
  };

  /** Resolves with the ports once `w` reports listening, or with why it did not (exit, timeout). */
  const started = (w: Worker): Promise<{ ports: number[] } | { exit: number | null; signal: string | null } | { timeout: true }> =>
    new Promise((resolve) => {
      const done = (r: Parameters<typeof resolve>[0]) => { clearTimeout(timer); w.off('message', onMessage); w.off('exit', onExit); resolve(r); };
      const onMessage = () => { const ports = serving.get(w); if (ports) done({ ports }); };
      const onExit = (code: number | null, signal: string | null) => done({ exit: code, signal });
      const timer = setTimeout(() => done({ timeout: true }), startTimeoutMs);
      w.on('message', onMessage);
      w.on('exit', onExit);
    });

  /** One reload: every serving worker replaced, one at a time. */
  async function reloadOnce(): Promise<void> {
    // The primary holds the shared listening sockets; a new worker takes them before the old one
    // lets go, so connections are never refused. The old worker drains like on SIGTERM. Workers
    // an earlier reload retired may still be draining (up to DREAM_DRAIN_TIMEOUT_MS): they are
    // on their way out, not replaced again (a replacement of theirs would be one worker too many).
    const old = alive().filter((w) => !retiring.has(w));
    for (const w of old) {
      // One that died meanwhile was re-forked as a crash; a stop ends the reload.
      if (stopping) return;
      if (w.isDead()) continue;
      const next = fork(slots.get(w) ?? 1, true);
      const r = await started(next);
      if (stopping) return;
      const had = serving.get(w) ?? [];
      if ('ports' in r && had.every((p) => r.ports.includes(p))) {
        trial.delete(next);
        retiring.add(w);
        w.process.kill('SIGTERM');
        continue;
      }
      // The old worker keeps serving; the new one goes (it is not re-forked).
      const why = 'timeout' in r ? `did not report listening within ${startTimeoutMs} ms (DREAM_PROXY_WORKER_START_TIMEOUT_MS)`
        : 'exit' in r ? `exited before listening (code ${r.exit}${r.signal ? `, signal ${r.signal}` : ''}${r.exit === STARTUP_EXIT_CODE ? '; see its fatal line' : ''})`
          : `listens on ports ${r.ports.join(', ')} only, not ${had.join(', ')}`;
      log.error({ pid: next.process.pid, keeping: w.process.pid }, `reload stopped: a new proxy worker ${why}; the old worker keeps serving`);
      if (!next.isDead()) { retiring.add(next); next.process.kill('SIGTERM'); }
      return;
    }
    log.info({ workers: old.length }, 'proxy workers reloaded');
  }

  for (let i = 0; i < count; i++) fork(i);
  log.info({ workers: count }, 'proxy workers started');

  return {
    failed,
    reload() {
      // A SIGHUP during a reload may carry a change the workers already forked did not see: one more
      // reload follows the running one (however many came meanwhile), none is dropped.
      if (reloading) { log.info('SIGHUP during a reload: another reload follows it'); again = true; return reloading; }
      reloading = (async () => {
        do { again = false; await reloadOnce(); } while (again && !stopping);
      })().finally(() => { reloading = null; });
      return reloading;
    },
    stop: stopAll,
  };
}
