// Listening on the sockets a predecessor passed (handover), port by port, instead of binding. A
// passed socket keeps the address it was bound to: after a settings change (DREAM_HTTP_HOST) that
// may be another one, and then it is not ours to serve — it is closed and the port bound as the
// settings say (while the predecessor still listens on an overlapping address, that fails as a bind
// does).
import cluster from 'node:cluster';
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from 'pino';

/** Whether a listening server is bound to `host` (always, for a host name rather than an address). */
export function boundAsSet(s: net.Server, host: string): boolean {
  return !net.isIP(host) || (s.address() as net.AddressInfo).address === host;
}

export class PassedSockets {
  private readonly left: Map<number, number>;
  /** Ports that listen on a passed socket (not those bound instead). */
  readonly used: number[] = [];

  constructor(fds: ReadonlyMap<number, number> | void, private readonly host: string, private readonly log: Logger) {
    this.left = new Map(fds ?? []);
  }

  /** `s` listens on the socket passed for `port`, else binds `port` on the host; `cb` once it listens. */
  listen(s: net.Server, port: number, cb: () => void): void {
    const fd = port ? this.left.get(port) : undefined;
    this.left.delete(port);
    if (fd === undefined) { s.listen(port, this.host, cb); return; }
    s.listen({ fd }, () => {
      if (boundAsSet(s, this.host)) { this.used.push(port); cb(); return; }
      const at = (s.address() as net.AddressInfo).address;
      this.log.warn({ passed: at, host: this.host, port }, 'handover: a passed socket listens on another address; binding instead');
      s.close(() => s.listen(port, this.host, cb));
    });
  }

  /** Closes the passed sockets no listener took (HTTPS off now): they would queue connections nobody accepts. */
  closeRest(): void {
    // A cluster worker's descriptors are the primary's (node's cluster opens them there): not ours to close.
    if (!cluster.isWorker) for (const fd of this.left.values()) fs.closeSync(fd);
    this.left.clear();
  }
}
