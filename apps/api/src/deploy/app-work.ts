// Everything that changes what runs for one app — a deployment, a restart or scale, a reconcile step,
// the app's deletion — runs here, one at a time per app. Without it a reconcile pass could re-apply a
// release the moment a deletion had listed (and was stopping) the app's replicas, and leave new ones.
// Each job gets an AbortSignal: cancel() aborts the jobs of an app that run or wait, so a deletion
// does not have to sit out a rollout's health wait, and the jobs see that they must not go on.

interface Job { ctl: AbortController }

export class AppWork {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly jobs = new Map<string, Set<Job>>();

  /** Something runs or waits for `app`. */
  busy(app: string): boolean {
    return this.tails.has(app);
  }

  /** Runs `fn` after every earlier job of `app`; `signal` aborts if cancel(app) is called meanwhile. */
  run<T>(app: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const job: Job = { ctl: new AbortController() };
    let mine = this.jobs.get(app);
    if (!mine) this.jobs.set(app, (mine = new Set()));
    mine.add(job);
    return this.chain(app, this.tails.get(app), () => fn(job.ctl.signal), () => {
      mine.delete(job);
      if (mine.size === 0 && this.jobs.get(app) === mine) this.jobs.delete(app);
    });
  }

  /** Like run(), but only when nothing runs or waits for `app` (resolves undefined otherwise). */
  async tryRun<T>(app: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    return this.busy(app) ? undefined : this.run(app, fn);
  }

  /**
   * Aborts (with `reason`) every job of `app` that runs or waits, then runs `fn` once they have
   * settled — or once `waitMs` has passed, for a job that does not listen to its signal: a bound, so
   * one stuck build cannot block the deletion forever. Jobs started after this call run after `fn`.
   */
  cancelThen<T>(app: string, reason: Error, waitMs: number, fn: () => Promise<T>): Promise<T> {
    for (const job of this.jobs.get(app) ?? []) job.ctl.abort(reason);
    const prev = this.tails.get(app);
    return this.chain(app, prev && settledWithin(prev, waitMs), fn, () => {});
  }

  private chain<T>(app: string, prev: Promise<unknown> | undefined, fn: () => Promise<T>, done: () => void): Promise<T> {
    const next = (prev ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.tails.set(app, next);
    void next.catch(() => undefined).finally(() => {
      done();
      if (this.tails.get(app) === next) this.tails.delete(app);
    });
    return next;
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first (the timer never outlives it). */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  return Promise.race([p.then(() => undefined, () => undefined), bound]).finally(() => clearTimeout(timer));
}
