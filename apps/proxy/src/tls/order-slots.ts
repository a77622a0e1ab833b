// How many orders of one issuer this process runs at once. The built-in CA makes a certificate in
// ~5 ms of this process's own CPU (the key pair and signature in libuv's thread pool, the X.509 in
// JavaScript, the pair stored with fsync, its TLS context), so its orders gain nothing from running
// side by side — and all at once they stall the proxy: libuv hands every finished thread-pool job
// back in one turn of the event loop, so a thousand orders started together (a first start with a
// thousand apps) ran their next steps back to back, holding every request and handshake for
// seconds (measured, bench/proxy/scale: 1 000 names 1.4 s in one turn and requests waiting 4.9 s;
// 5 000 names 15.9 s and 27 s). A few at a time, each started from its own turn, keeps each
// turn's share to a few orders' steps. ACME orders wait on the CA, not on this process: unbounded.
import { BUILTIN } from './ca.js';
import type { Issuer } from './issuer.js';

/** Orders of the built-in CA in flight at once (the thread pool has 4 threads by default). */
export const BUILTIN_ORDER_SLOTS = 4;

export class OrderSlots {
  private readonly running = new Map<string, number>();
  private readonly queued = new Map<string, (() => void)[]>();
  private closed = false;

  constructor(private readonly limitOf: (issuer: Issuer) => number = (i) => (i.id === BUILTIN ? BUILTIN_ORDER_SLOTS : Infinity)) {}

  /** Runs `order` once the issuer has a free slot; resolves without running it after close(). */
  async run(issuer: Issuer, order: () => Promise<void>): Promise<void> {
    const limit = this.limitOf(issuer);
    if (!Number.isFinite(limit)) return order();
    const id = issuer.id;
    const n = this.running.get(id) ?? 0;
    // A finished order hands its slot to the next one waiting, so a free slot is never taken twice.
    if (n < limit) this.running.set(id, n + 1);
    else await new Promise<void>((r) => { const q = this.queued.get(id); if (q) q.push(r); else this.queued.set(id, [r]); });
    try {
      if (!this.closed) await order();
    } finally {
      const next = this.queued.get(id)?.shift();
      // The next one starts from a turn of its own (setImmediate), not on the tail of this one's.
      if (next) setImmediate(next); else this.running.set(id, this.running.get(id)! - 1);
    }
  }

  /** Orders still waiting for a slot give up (a stopping proxy does not start them): each is passed its slot and returns at once. */
  close(): void {
    this.closed = true;
  }
}
