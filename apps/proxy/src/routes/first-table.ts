// A proxy with no cached table (a fresh data dir, or a cache it could not use) listens before the
// api has answered its first poll: a request in that window would find no route and get 404
// NO_ROUTE for an app that exists. Instead it waits for the first table (cache or api), at most
// until the bound after start, and is then routed; past it, 503 ROUTES_NOT_LOADED at once
// (decide.ts). Once a table has been applied nothing waits again: an api outage later keeps the
// last table serving.
import type { EventEmitter } from 'node:events';

/** How long after start requests wait for the first table: the api answers a starting proxy's first poll at once. */
export const FIRST_TABLE_WAIT_MS = 10_000;

export class FirstTable {
  /** Set, synchronously with the first 'applied', once there is a table: the request path's only check. */
  loaded = false;
  private readonly waiters = new Set<(loaded: boolean) => void>();
  /**
   * Counted from start, not per request: with the api down at start, each request waited the
   * whole bound for its 503 (10 s a request, for as long as the api stayed down).
   */
  private readonly deadline: number;

  /** `routes`: the RoutesSource, which emits 'applied' with each table it starts serving. */
  constructor(routes: EventEmitter, readonly waitMs = FIRST_TABLE_WAIT_MS) {
    this.deadline = Date.now() + waitMs;
    routes.once('applied', () => {
      this.loaded = true;
      for (const w of this.waiters) w(true);
      this.waiters.clear();
    });
  }

  /** True once there is a table; false when none came by the deadline (waitMs after start). */
  wait(): Promise<boolean> {
    if (this.loaded) return Promise.resolve(true);
    const left = this.deadline - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      // A set, not a promise's then: with the api down, timed-out waiters must not pile up.
      const done = (loaded: boolean) => { clearTimeout(timer); this.waiters.delete(done); resolve(loaded); };
      const timer = setTimeout(done, left, false);
      // A waiting request must not hold a closing proxy's process open.
      timer.unref();
      this.waiters.add(done);
    });
  }
}
