// The shape both send timeouts share (fast/send-watch.ts for sockets node:http holds,
// h2-send-timeout.ts for HTTP/2 streams): what is watched sits in a map until its 'close', and one
// interval checks them all while there are any — every few seconds, nothing per request.
export class Sweep<T extends { once(event: 'close', listener: () => void): unknown }, P> {
  private readonly watched = new Map<T, P>();
  private timer: NodeJS.Timeout | null = null;
  private readonly everyMs: number;

  /** `check` runs for each watched object at each sweep: half the timeout apart, 100 ms to 5 s. */
  constructor(timeoutMs: number, private readonly check: (t: T, p: P, now: number) => void) {
    this.everyMs = Math.max(100, Math.min(5000, timeoutMs / 2));
  }

  /** Watches `t` with `p` until its 'close'; false when it was watched already. */
  add(t: T, p: P): boolean {
    if (this.watched.has(t)) return false;
    this.watched.set(t, p);
    t.once('close', () => {
      this.watched.delete(t);
      if (this.watched.size === 0 && this.timer) { clearInterval(this.timer); this.timer = null; }
    });
    this.timer ??= setInterval(() => this.run(Date.now()), this.everyMs).unref();
    return true;
  }

  run(now: number): void {
    for (const [t, p] of this.watched) this.check(t, p, now);
  }
}
