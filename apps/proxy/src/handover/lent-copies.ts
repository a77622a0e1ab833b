// The copies of its listening sockets a cluster primary gave its workers (primary-sockets.ts). Node's
// cluster opens a copy in the primary when the worker listens on it, and from then on closes it
// itself (with the worker's server, or when the worker goes). A worker that dies before it listens
// leaves its copies to nobody: open, they keep the port bound after the primary lets go of its own
// socket (a release), so a successor could not bind it. They are closed here when the worker exits.
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';

/** How long after a worker's exit its copies are looked at (node closes those it opened within a turn or two). */
const SETTLE_MS = 100;

export class LentCopies {
  /** Worker id → copies node has not opened yet (the worker did not report listening on them). */
  private readonly lent = new Map<number, Set<number>>();

  /** `isCopy(fd)`: whether a descriptor is (still) a copy of one of the primary's sockets. */
  constructor(private readonly isCopy: (fd: number) => boolean) {}

  lend(worker: number, fds: number[]): void {
    const set = this.lent.get(worker) ?? new Set();
    for (const fd of fds) set.add(fd);
    this.lent.set(worker, set);
  }

  /** The worker listens on `fd` (the cluster's 'listening'): node's cluster closes it from now on. */
  taken(worker: number, fd: number | undefined): void {
    if (fd !== undefined) this.lent.get(worker)?.delete(fd);
  }

  /**
   * The worker exited: closes the copies it never listened on. A moment later, and only a
   * descriptor that is still a copy of ours and lent to no other worker: node may have opened one
   * whose 'listening' never came (the worker died in between) and closes it itself, after which its
   * number can belong to something else.
   */
  reclaim(worker: number, settleMs = SETTLE_MS): Promise<void> {
    const fds = this.lent.get(worker);
    this.lent.delete(worker);
    if (!fds?.size) return Promise.resolve();
    return new Promise((resolve) => {
      setTimeout(() => {
        for (const fd of fds) {
          if (this.isLent(fd) || !this.isCopy(fd)) continue;
          try { fs.closeSync(fd); } catch { /* closed meanwhile */ }
        }
        resolve();
      }, settleMs).unref();
    });
  }

  /** Follows a cluster's workers: 'listening' (with the descriptor listened on) and 'exit'. */
  follow(cluster: EventEmitter): void {
    cluster.on('listening', (w: { id: number }, address: { fd?: number }) => this.taken(w.id, address.fd));
    cluster.on('exit', (w: { id: number }) => { void this.reclaim(w.id); });
  }

  private isLent(fd: number): boolean {
    for (const set of this.lent.values()) if (set.has(fd)) return true;
    return false;
  }
}
