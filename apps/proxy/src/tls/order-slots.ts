// How many orders of one issuer this process runs at once. The built-in CA makes a certificate in
// ~5 ms of this process's own CPU (the key pair and signature in libuv's thread pool, the X.509 in
// JavaScript, the pair stored with fsync, its TLS context), so its orders gain nothing from running
// side by side — and all at once they stall the proxy: libuv hands every finished thread-pool job
// back in one turn of the event loop, so a thousand orders started together (a first start with a
// thousand apps) ran their next steps back to back, holding every request and handshake for
// seconds (measured, bench/proxy/scale: 1 000 names 1.4 s in one turn and requests waiting 4.9 s;
// 5 000 names 15.9 s and 27 s). A few at a time, each started from its own turn, keeps each
// turn's share to a few orders' steps. ACME orders wait on the CA, not on this process: unbounded.
// First come first served, except a name a TLS handshake is waiting for (handshake-wait.ts): its
// order runs next. Behind thousands of queued names it was issued seconds after the handshake's
// wait (5 s) had failed it, though a real client wanted that name now (1 500 names: failed).
import { BUILTIN } from './ca.js';
import type { Issuer } from './issuer.js';

/** Orders of the built-in CA in flight at once (the thread pool has 4 threads by default). */
export const BUILTIN_ORDER_SLOTS = 4;

/** One issuer's orders waiting for a slot, by key (the name), each in insertion order (Map). */
interface Queue {
  /** Names a handshake is waiting for: these go first, in the order they were asked for. */
  hurried: Map<string | symbol, () => void>;
  waiting: Map<string | symbol, () => void>;
}

export class OrderSlots {
  private readonly running = new Map<string, number>();
  private readonly queues = new Map<string, Queue>();
  private closed = false;

  constructor(private readonly limitOf: (issuer: Issuer) => number = (i) => (i.id === BUILTIN ? BUILTIN_ORDER_SLOTS : Infinity)) {}

  /**
   * Runs `order` once the issuer has a free slot; resolves without running it after close().
   * `key` (the name ordered) lets hurry() put it first while it waits.
   */
  async run(issuer: Issuer, order: () => Promise<void>, key?: string): Promise<void> {
    const limit = this.limitOf(issuer);
    if (!Number.isFinite(limit)) return order();
    const id = issuer.id;
    const n = this.running.get(id) ?? 0;
    // A finished order hands its slot to the next one waiting, so a free slot is never taken twice.
    if (n < limit) this.running.set(id, n + 1);
    else {
      let q = this.queues.get(id);
      if (!q) this.queues.set(id, q = { hurried: new Map(), waiting: new Map() });
      // The manager runs one order per name at a time; a second one waiting under the same key would
      // take the first's place in the Map (and lose it), so it waits unkeyed.
      const k = key === undefined || q.waiting.has(key) || q.hurried.has(key) ? Symbol(key) : key;
      const wait = q.waiting;
      await new Promise<void>((r) => { wait.set(k, r); });
    }
    try {
      if (!this.closed) await order();
    } finally {
      const next = this.next(id);
      // The next one starts from a turn of its own (setImmediate), not on the tail of this one's.
      if (next) setImmediate(next); else this.running.set(id, this.running.get(id)! - 1);
    }
  }

  /**
   * The order waiting under `key` (of any issuer) runs before the others waiting: a handshake is
   * waiting for that name. Slots are still handed on one at a time, each from its own turn; false
   * when no order waits under the key (running already, or none).
   */
  hurry(key: string): boolean {
    for (const q of this.queues.values()) {
      const start = q.waiting.get(key);
      if (!start) continue;
      q.waiting.delete(key);
      q.hurried.set(key, start);
      return true;
    }
    return false;
  }

  /** Orders still waiting for a slot give up (a stopping proxy does not start them): each is passed its slot and returns at once. */
  close(): void {
    this.closed = true;
  }

  private next(id: string): (() => void) | undefined {
    const q = this.queues.get(id);
    if (!q) return undefined;
    for (const m of [q.hurried, q.waiting]) {
      for (const [k, start] of m) { m.delete(k); return start; }
    }
    return undefined;
  }
}
