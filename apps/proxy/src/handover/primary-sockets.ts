// The listening sockets of a cluster primary (DREAM_PROXY_WORKERS ≥ 2) that can pass them on. Node's
// cluster opens the socket for its workers in the primary, where no API reaches it, and closes it
// with the last worker's server; so the primary binds (or takes from its predecessor) each socket
// itself, keeps its own descriptor, and gives every worker a copy to listen on (node's cluster owns
// and closes that copy once the worker listens on it; before, lent-copies.ts does). A successor gets
// the primary's own descriptors.
import fs from 'node:fs';
import net from 'node:net';
import { fdOf, type FdPass } from './fdpass.js';
import { LentCopies } from './lent-copies.js';
import { boundAsSet } from './passed-sockets.js';

export class PrimarySockets {
  private readonly held = new Map<number, number>();
  /** Socket inodes ever held (a copy keeps its socket's inode, also after the primary let go of it). */
  private readonly inodes = new Set<number>();
  /** Copies given to workers that node's cluster has not opened yet; `follow` a cluster to close those of dead workers. */
  readonly lent = new LentCopies((fd) => {
    if ([...this.held.values()].includes(fd)) return false;
    try { return this.inodes.has(fs.fstatSync(fd).ino); } catch { return false; }
  });

  constructor(private readonly pass: FdPass, private readonly host: string) {}

  /**
   * Sockets a predecessor passed (port → descriptor): kept, unless bound to another address than
   * the settings say (closed: `bind` then binds as they say, and fails as a bind does while the
   * predecessor holds an overlapping address). Resolves with the ports kept.
   */
  async adopt(fds: ReadonlyMap<number, number>): Promise<number[]> {
    const kept: number[] = [];
    for (const [port, fd] of fds) {
      if (this.held.has(port) || !(await this.boundAsSet(fd))) { fs.closeSync(fd); continue; }
      this.hold(port, fd);
      kept.push(port);
    }
    return kept;
  }

  /** boundAsSet on a copy of the socket (a server listens on it for a moment). */
  private async boundAsSet(fd: number): Promise<boolean> {
    let copy: number;
    try { copy = this.pass.dup(fd); } catch { return false; }
    return (await briefly({ fd: copy }, (s) => boundAsSet(s, this.host))) ?? false;
  }

  /**
   * Binds each port not held yet and keeps a copy of the socket. A port that cannot be bound is
   * left to the workers, which bind it themselves and report why they cannot.
   */
  async bind(ports: number[]): Promise<void> {
    for (const port of ports) {
      if (this.held.has(port)) continue;
      const fd = await briefly({ port, host: this.host }, (s) => {
        const own = fdOf(s);
        try { return own === null ? null : this.pass.dup(own); } catch { return null; }
      });
      if (fd !== null) this.hold(port, fd);
    }
  }

  /** One worker's copies (port → descriptor of this process, which node's cluster opens for it), lent to `worker` (its id). */
  copies(worker: number): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [port, fd] of this.held) {
      try { out[port] = this.pass.dup(fd); } catch { /* EMFILE: that worker binds the port itself */ }
    }
    this.lent.lend(worker, Object.values(out));
    return out;
  }

  /** What a successor is passed, or null when nothing is held. */
  sockets(): { ports: number[]; fds: number[] } | null {
    return this.held.size ? { ports: [...this.held.keys()], fds: [...this.held.values()] } : null;
  }

  private hold(port: number, fd: number): void {
    this.held.set(port, fd);
    this.inodes.add(fs.fstatSync(fd).ino);
  }

  /** Lets go of every socket (the ports are released: a successor binds them). */
  closeAll(): void {
    for (const fd of this.held.values()) fs.closeSync(fd);
    this.held.clear();
  }
}

/**
 * Runs `look` on a server listening as `how` says, then closes the server before it ever accepts
 * ('listening' comes before the next poll); null when it cannot listen.
 */
function briefly<T>(how: net.ListenOptions | { fd: number }, look: (s: net.Server) => T): Promise<T | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(how, () => { const v = look(s); s.close(); resolve(v); });
  });
}
