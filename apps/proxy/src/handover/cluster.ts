// The handover with DREAM_PROXY_WORKERS ≥ 2: the primary talks to the predecessor and successor (it
// owns the unix socket) and relays release/restore to the workers, which own the servers. A new
// primary asks its predecessor for the ports only once its first worker is ready to listen (certificates
// and config loaded), so the gap is not a worker's start-up time, and tells it that it listens only
// once a worker reported every one of its listeners listening (cluster.ts reportListening). With the
// addon the primary holds the listening sockets (primary-sockets.ts): "go" and "restore" carry each
// worker's copies (port → the primary's descriptor), which it listens on instead of binding.
import cluster, { type Worker } from 'node:cluster';
import { ignoreGonePrimary, listeningReport } from '../cluster.js';
import type { Listeners } from './listeners.js';

const REQ = 'dream:handover';
/** Port → a descriptor of the primary's (node's cluster opens it there for the worker). */
export type WorkerFds = Record<number, number>;
type Req = { [REQ]: 'release' | 'restore' | 'go'; fds?: WorkerFds };
type Ack = { [REQ]: 'done'; ok: boolean } | { [REQ]: 'ready' };
/** Sends `op` with the worker's socket copies, if any; `cb` sees a failed send (else node emits it as the worker's 'error'). */
const request = (w: Worker, op: Req[typeof REQ], copies: WorkerFds | undefined, cb: (err: Error | null) => void) => {
  w.send({ [REQ]: op, ...(copies ? { fds: copies } : {}) } satisfies Req, cb);
};
const toMap = (fds: WorkerFds | undefined) => new Map(Object.entries(fds ?? {}).map(([p, fd]) => [Number(p), fd]));

const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && !w.isDead());

/**
 * Primary: every live worker releases (or restores) its listeners; resolves when all answered.
 * `fds`: each worker's copies to restore on (primary-sockets.ts), made per worker (copies one never
 * listens on, as the message did not reach it, are closed when it exits: lent-copies.ts).
 */
export async function forwardToWorkers(op: 'release' | 'restore', timeoutMs = 5000, fds?: (w: Worker) => WorkerFds): Promise<void> {
  const results = await Promise.all(alive().map((w) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { w.off('message', on); resolve(false); }, timeoutMs);
    const on = (m: Ack) => {
      if (m?.[REQ] !== 'done') return;
      clearTimeout(timer); w.off('message', on); resolve(m.ok);
    };
    w.on('message', on);
    // A worker whose channel closed is exiting (as it dies, before its 'exit' is seen; main.ts stops
    // a worker whose primary is gone): it takes its listeners with it. Without the callback node
    // emits the failed send as the worker's 'error', which nothing handles: the primary went down.
    request(w, op, fds?.(w), (err) => { if (err) { clearTimeout(timer); w.off('message', on); resolve(true); } });
  })));
  if (results.some((ok) => !ok)) throw new Error(`a proxy worker did not ${op} its listeners`);
}

/** Worker: answers the primary's release/restore requests with its own listeners. */
export function answerPrimary(listeners: Listeners): void {
  process.on('message', (m: Req) => {
    const op = m?.[REQ];
    if (op !== 'release' && op !== 'restore') return;
    (op === 'release' ? listeners.release() : listeners.restore(toMap(m.fds))).then(() => true, () => false).then((ok) => process.send?.({ [REQ]: 'done', ok } satisfies Ack, ignoreGonePrimary));
  });
}

/**
 * Primary: resolves once a worker reported that every one of its listeners listens (not a guess
 * after its first one), with when the first worker began listening on `port` (where the gap ends).
 */
export function workersListening(port: number, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let at = 0;
    const done = () => { cluster.off('listening', onListening); cluster.off('message', onMessage); clearTimeout(timer); };
    const timer = setTimeout(() => { done(); reject(new Error('no proxy worker started listening')); }, timeoutMs);
    const onListening = (_w: Worker, addr: { port: number }) => { if (addr.port === port && !at) at = Date.now(); };
    const onMessage = (_w: Worker, m: unknown) => {
      if (!listeningReport(m)) return;
      done();
      resolve(at || Date.now());
    };
    cluster.on('listening', onListening);
    cluster.on('message', onMessage);
  });
}

/**
 * Primary: the first worker that is ready to listen triggers `takeOver` (once); every ready worker
 * is told to go on once it is done, with its copies of the sockets (`fds`, when the primary holds
 * them). Later workers (SIGHUP reload, re-forks) go on at once.
 */
export function gateWorkers(takeOver: () => Promise<unknown>, fds?: (w: Worker) => WorkerFds): void {
  let taken: Promise<unknown> | null = null;
  cluster.on('message', (w: Worker, m: Ack) => {
    if (m?.[REQ] !== 'ready') return;
    taken ??= takeOver().catch(() => undefined);
    // A worker gone meanwhile needs no answer (see forwardToWorkers for why the callback); copies
    // are made only for a live one (closed when it exits without listening on them: lent-copies.ts).
    void taken.then(() => {
      if (w.isDead()) return;
      request(w, 'go', fds?.(w), () => {});
    });
  });
}

/** Worker: waits until the primary says the ports are ours; resolves with the sockets to listen on (port → descriptor), if any. */
export function readyToListen(): Promise<ReadonlyMap<number, number>> {
  return new Promise((resolve) => {
    const on = (m: Req) => { if (m?.[REQ] === 'go') { process.off('message', on); resolve(toMap(m.fds)); } };
    process.on('message', on);
    process.send?.({ [REQ]: 'ready' } satisfies Ack, ignoreGonePrimary);
  });
}
