// Live per-endpoint state the table does not hold: requests in flight (for drains) and short
// "down" marks after a refused connection (so the next requests skip it).

export class EndpointState {
  private readonly inflight = new Map<string, number>();
  private readonly downUntil = new Map<string, number>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(private readonly downForMs = 2000, private readonly now: () => number = Date.now) {}

  /** Counts one request (or WebSocket) on `key`; call the returned function exactly once when done. */
  acquire(key: string): () => void {
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.inflight.get(key) ?? 1) - 1;
      if (n > 0) { this.inflight.set(key, n); return; }
      this.inflight.delete(key);
      if (this.idleWaiters.size) for (const w of [...this.idleWaiters]) w();
    };
  }

  inFlight = (key: string): number => this.inflight.get(key) ?? 0;

  markDown(key: string): void {
    this.downUntil.set(key, this.now() + this.downForMs);
  }

  markUp(key: string): void {
    this.downUntil.delete(key);
  }

  isDown = (key: string): boolean => {
    const until = this.downUntil.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.downUntil.delete(key);
    return false;
  };

  /**
   * Resolves true once nothing is in flight to any of `keys`, or false after `timeoutMs`
   * (or when `signal` aborts).
   */
  waitIdle(keys: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const idle = () => keys.every((k) => !this.inflight.has(k));
    if (idle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const check = () => { if (idle()) done(true); };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
