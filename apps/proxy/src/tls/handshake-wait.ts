// A handshake for a served name whose certificate this process does not have yet. Another worker
// (or another proxy on the data dir) may be issuing it right now or have just stored it, and this
// process would only notice at its next look (the order lock's 2 s retry, the 5 s pick-up): with
// two workers and the built-in CA, 11-38 % of new connections for a new name failed with a
// handshake alert for up to 2 s after the route change, though the name was valid.
// So the SNI callback waits here: it reads the pair a sibling stored (async fs: the event loop is
// never blocked) and, while an order for the name is in flight in any process (its lock file, or
// this process's own attempt), looks again every POLL_MS, up to WAIT_MS. Names not served fail at
// once, and at most MAX_WAITING handshakes wait per process: random names cannot pile them up.
// This process's own order for the name, still queued behind others (order-slots.ts: a first start
// with thousands of new `.dream` names), is hurried: it runs next, within the wait.
import type tls from 'node:tls';
import type { Entry } from './entry.js';
import { lockHeld } from './lock.js';
import type { SiblingCerts } from './siblings.js';
import type { TlsStorage } from './storage.js';

/**
 * How long a handshake waits for an order in flight: the built-in CA issues within milliseconds
 * and an ACME order with HTTP-01 often within a few seconds; a client held longer is better off
 * with an error it can retry, and a slow CA must not hold sockets open.
 */
export const WAIT_MS = 5000;
/** How often a waiting name is looked for on disk (a stat or two, shared by all its handshakes). */
export const POLL_MS = 50;
/** Handshakes waiting at once in one process; past it they fail at once, as with no wait. */
export const MAX_WAITING = 256;

export interface HandshakeWaitsOptions {
  storage: TlsStorage;
  stored: SiblingCerts;
  /** The entry that would serve a name (exact, else the wildcard above it); undefined = not served. */
  entryFor(name: string): Entry | undefined;
  /** An order lock not refreshed for this long belongs to a process that is gone: no order in flight. */
  lockStaleMs: number;
  /** This process's order for the name, if waiting for a slot, runs next (OrderSlots.hurry()). */
  hurry?(host: string): void;
  waitMs?: number;
  maxWaiting?: number;
}

export class HandshakeWaits {
  private waiting = 0;
  /** One look-up loop per name, shared by every handshake waiting for it. */
  private readonly polls = new Map<string, Promise<tls.SecureContext | undefined>>();
  private closed = false;

  constructor(private readonly o: HandshakeWaitsOptions) {}

  /** Handshakes waiting now (tests). */
  get count(): number { return this.waiting; }

  /**
   * The context for `name` (normalised) once this process has it, undefined when it does not come
   * (nothing stored, no order in flight, or not within the wait). Undefined instead of a promise:
   * fail the handshake now (a name not served, or too many waiting).
   */
  wait(name: string): Promise<tls.SecureContext | undefined> | undefined {
    const e = this.o.entryFor(name);
    if (!e || this.closed) return undefined;
    if (e.ctx) return Promise.resolve(e.ctx);
    if (this.waiting >= (this.o.maxWaiting ?? MAX_WAITING)) return undefined;
    this.waiting++;
    let poll = this.polls.get(e.host);
    if (!poll) {
      const host = e.host;
      poll = this.poll(host).catch(() => undefined).finally(() => this.polls.delete(host));
      this.polls.set(host, poll);
    }
    return poll.finally(() => { this.waiting--; });
  }

  /** Waiting handshakes give up at their next look (a stopping proxy). */
  close(): void { this.closed = true; }

  private async poll(host: string): Promise<tls.SecureContext | undefined> {
    const until = Date.now() + (this.o.waitMs ?? WAIT_MS);
    for (;;) {
      // Looked up each time: the route may have gone (or come back as a new entry) meanwhile.
      const e = this.o.entryFor(host);
      if (!e || this.closed) return undefined;
      if (e.ctx) return e.ctx;
      // A client wants this name now: its order must not wait behind names nobody asked for yet.
      if (e.running) this.o.hurry?.(host);
      // During this process's own attempt the attempt itself adopts or stores the pair.
      if (!e.running && await this.o.stored.adoptNewerAsync(e)) return e.ctx;
      if (!(await this.inFlight(e))) {
        // A sibling stores before it releases its lock: the pair may have come just before.
        if (!e.running && !e.ctx) await this.o.stored.adoptNewerAsync(e);
        return e.ctx;
      }
      if (Date.now() >= until) return e.ctx;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  private async inFlight(e: Entry): Promise<boolean> {
    if (e.running) return true;
    // The order lock's own rule, a killed holder included (it would hold handshakes the whole wait).
    return lockHeld(this.o.storage.lockFile(e.host), this.o.lockStaleMs);
  }
}
