// Keep-alive connections to upstreams for the fast path: one idle list per "host:port", a connect
// timeout, and idle connections closed after `idleMs` — before node's usual 5 s server-side idle
// timeout, so we rarely reuse a socket the app is closing. Each socket gets its listeners once;
// events go to whichever exchange holds it (no per-request listener churn).
import net from 'node:net';
import type { RouteEndpoint } from '../table.js';

export interface UpstreamUser {
  /** A new connection came up (pooled ones are connected already). */
  onConnect(): void;
  /** Bytes read. `b` is a view of a shared read buffer, valid only during the call: copy what is kept. */
  onData(b: Buffer): void;
  /** The upstream ended its side (a close-delimited body is complete). */
  onEnd(): void;
  onError(err: NodeJS.ErrnoException): void;
}

// Every upstream socket reads into this one buffer (node's `onread`): no buffer allocated per read
// and no Readable push/'data'/nextTick per response. Safe to share: each read's callback runs to
// completion before the next read, and users copy what they keep.
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class UpstreamConn {
  user: UpstreamUser | null = null;
  idleSince = 0;
  /** Exchanges this connection carried before the current one (0 = fresh). */
  uses = 0;
  connected = false;
  readonly socket: net.Socket;

  constructor(readonly key: string, ep: RouteEndpoint, private readonly pool: UpstreamPool, connectTimeoutMs: number) {
    const socket = this.socket = net.connect({ host: ep.host, port: ep.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.onRead } });
    socket.setTimeout(connectTimeoutMs);
    socket.once('connect', () => { this.connected = true; socket.setTimeout(0); this.user?.onConnect(); });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error(`connect timed out after ${connectTimeoutMs}ms`), { code: 'ECONNECT_TIMEOUT' })));
    socket.on('end', () => { const u = this.user; if (u) u.onEnd(); else socket.destroy(); });
    socket.on('error', (err: NodeJS.ErrnoException) => { const u = this.user; this.user = null; u?.onError(err); });
    socket.on('close', () => {
      this.pool.forget(this);
      const u = this.user;
      this.user = null;
      u?.onError(Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }));
    });
  }

  private onRead = (n: number, buf: Uint8Array): boolean => {
    // Bytes while idle are a protocol violation: drop the connection.
    if (!this.user) { this.socket.destroy(); return false; }
    this.user.onData((buf as Buffer).subarray(0, n));
    return true;
  };
}

export class UpstreamPool {
  private readonly idle = new Map<string, UpstreamConn[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: { connectTimeoutMs: number; idleMs: number; maxIdlePerEndpoint: number }) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(1000, o.idleMs)).unref();
  }

  /** An idle connection to `key` (most recently used first), else a new one to `ep`. */
  get(key: string, ep: RouteEndpoint, user: UpstreamUser): UpstreamConn {
    const list = this.idle.get(key);
    let c = list?.pop();
    while (c && c.socket.destroyed) c = list!.pop();
    if (!c) c = new UpstreamConn(key, ep, this, this.o.connectTimeoutMs);
    else c.uses++;
    c.user = user;
    return c;
  }

  /** Returns a connection whose exchange completed cleanly. */
  put(c: UpstreamConn): void {
    c.user = null;
    let list = this.idle.get(c.key);
    if (!list) this.idle.set(c.key, list = []);
    if (list.length >= this.o.maxIdlePerEndpoint) { c.socket.destroy(); return; }
    c.idleSince = Date.now();
    list.push(c);
  }

  forget(c: UpstreamConn): void {
    const list = this.idle.get(c.key);
    const i = list ? list.indexOf(c) : -1;
    if (i >= 0) list!.splice(i, 1);
    if (list && list.length === 0) this.idle.delete(c.key);
  }

  private sweep(now: number): void {
    for (const list of this.idle.values()) {
      for (const c of list) if (now - c.idleSince >= this.o.idleMs) c.socket.destroy();
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const list of [...this.idle.values()]) for (const c of [...list]) c.socket.destroy();
  }
}
