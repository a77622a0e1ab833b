// One thing at a time per app, in the order asked. Targets run apply/remove/prune of an app through it
// (remove must list containers after a rollout in progress has ended, or a replica that rollout
// creates after the list survives); the api runs each app's deployments, reconcile steps and deletion
// through it (api/src/deploy/app-work.ts).

export class AppLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Something runs or waits for `app`. */
  busy(app: string): boolean {
    return this.tails.has(app);
  }

  /**
   * Runs `fn` once what runs or waits for `app` has settled — or, with `waitMs`, once that much time
   * has passed, for earlier work that will not let go (a bound, so one stuck job cannot hold the app).
   */
  run<T>(app: string, fn: () => Promise<T>, waitMs?: number): Promise<T> {
    const prev = this.tails.get(app) ?? Promise.resolve();
    const next = (waitMs === undefined ? prev : settledWithin(prev, waitMs)).catch(() => {}).then(fn);
    this.tails.set(app, next);
    // Forget settled tails: one entry per app ever deployed would otherwise stay for good.
    void next.catch(() => {}).finally(() => { if (this.tails.get(app) === next) this.tails.delete(app); });
    return next;
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first (the timer never outlives it). */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  return Promise.race([p.then(() => undefined, () => undefined), bound]).finally(() => clearTimeout(timer));
}
