// Keep-alive connections to upstreams for the fast path: one idle list per "host:port", a connect
// timeout, and idle connections never reused once near the app's own idle timeout. An app closing
// an idle connection just as a request goes out on it resets that request, and one with a body
// (a POST) cannot be retried safely: so a connection expires `idleMs` after its last response, or
// KEEP_ALIVE_MARGIN_MS before the `Keep-Alive: timeout=N` that response announced (node announces
// its keepAliveTimeout: 5 s by default, 1 s or less when an app lowers it) — checked when one is
// taken, not only by the sweep. An app that announces nothing but closes idle connections itself
// teaches the pool its timeout (learned-idle.ts). Each socket gets its listeners once; events go to whichever
// exchange holds it (no per-request listener churn).
import net from 'node:net';
import type { RouteEndpoint } from '../table.js';
import { KEEP_ALIVE_MARGIN_MS, LearnedIdleTimeouts } from '../learned-idle.js';

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
  /** When an idle connection stops being reused (Date.now() ms). */
  expiresAt = 0;
  /** Exchanges this connection carried before the current one (0 = fresh). */
  uses = 0;
  connected = false;
  readonly socket: net.Socket;

  constructor(readonly key: string, ep: RouteEndpoint, private readonly pool: UpstreamPool, connectTimeoutMs: number) {
    const socket = this.socket = net.connect({ host: ep.host, port: ep.port, noDelay: true, onread: { buffer: READ_BUFFER, callback: this.onRead } });
    socket.setTimeout(connectTimeoutMs);
    socket.once('connect', () => { this.connected = true; socket.setTimeout(0); this.user?.onConnect(); });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error(`connect timed out after ${connectTimeoutMs}ms`), { code: 'ECONNECT_TIMEOUT' })));
    socket.on('end', () => {
      const u = this.user;
      if (u) { u.onEnd(); return; }
      if (this.idleSince) this.pool.closedByApp(this);
      socket.destroy();
    });
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

  /** `learned`: shared with undici's pools (lazy-agent.ts), so either side's observation serves both. */
  constructor(private readonly o: { connectTimeoutMs: number; idleMs: number; maxIdlePerEndpoint: number }, private readonly learned = new LearnedIdleTimeouts()) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(1000, o.idleMs)).unref();
  }

  /** An idle connection to `key` (most recently used first), else a new one to `ep`. */
  get(key: string, ep: RouteEndpoint, user: UpstreamUser): UpstreamConn {
    const list = this.idle.get(key);
    let c = list?.pop();
    if (c) {
      const now = Date.now();
      // The sweep runs once a second: one past its time may still be listed.
      while (c && (c.socket.destroyed || now >= c.expiresAt)) { c.socket.destroy(); c = list!.pop(); }
    }
    if (!c) c = new UpstreamConn(key, ep, this, this.o.connectTimeoutMs);
    else c.uses++;
    c.user = user;
    return c;
  }

  /** Returns a connection whose exchange completed cleanly; `keepAliveMs`: the timeout its last response announced (-1: none). */
  put(c: UpstreamConn, keepAliveMs = -1): void {
    c.user = null;
    const now = Date.now();
    const keepMs = this.learned.keepMs(c.key, now, keepAliveMs < 0 ? this.o.idleMs : Math.min(this.o.idleMs, keepAliveMs - KEEP_ALIVE_MARGIN_MS));
    let list = this.idle.get(c.key);
    if (!list) this.idle.set(c.key, list = []);
    if (keepMs <= 0 || list.length >= this.o.maxIdlePerEndpoint) { c.socket.destroy(); return; }
    c.idleSince = now;
    c.expiresAt = now + keepMs;
    list.push(c);
  }

  /** The app closed `c` while it sat idle here: its idle timeout, learned; the others expire by it too. */
  closedByApp(c: UpstreamConn): void {
    const learned = this.learned.observe(c.key, c.idleSince, Date.now());
    if (learned === undefined) return;
    for (const o of this.idle.get(c.key) ?? []) o.expiresAt = Math.min(o.expiresAt, o.idleSince + learned - KEEP_ALIVE_MARGIN_MS);
  }

  forget(c: UpstreamConn): void {
    const list = this.idle.get(c.key);
    const i = list ? list.indexOf(c) : -1;
    if (i >= 0) list!.splice(i, 1);
    if (list && list.length === 0) this.idle.delete(c.key);
  }

  private sweep(now: number): void {
    this.learned.sweep(now);
    for (const list of this.idle.values()) {
      for (const c of list) if (now >= c.expiresAt) c.socket.destroy();
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const list of [...this.idle.values()]) for (const c of [...list]) c.socket.destroy();
  }
}
