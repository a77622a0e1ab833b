// Everything that changes what runs for one app — a deployment, a restart or scale, a reconcile step,
// the app's deletion — runs here, one at a time per app. Without it a reconcile pass could re-apply a
// release the moment a deletion had listed (and was stopping) the app's replicas, and leave new ones.
// Each job gets an AbortSignal: cancelThen() aborts the jobs of an app that run or wait, so a deletion
// does not have to sit out a rollout's health wait, and the jobs see that they must not go on.
import { AppLock } from '@dreamnet/core';

export class AppWork {
  private readonly lock = new AppLock();
  private readonly jobs = new Map<string, Set<AbortController>>();

  /** Something runs or waits for `app`. */
  busy(app: string): boolean {
    return this.lock.busy(app);
  }

  /** Runs `fn` after every earlier job of `app`; `signal` aborts if cancelThen(app) is called meanwhile. */
  run<T>(app: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    let mine = this.jobs.get(app);
    if (!mine) this.jobs.set(app, (mine = new Set()));
    mine.add(ctl);
    const done = this.lock.run(app, () => fn(ctl.signal));
    void done.catch(() => {}).finally(() => {
      mine.delete(ctl);
      if (mine.size === 0 && this.jobs.get(app) === mine) this.jobs.delete(app);
    });
    return done;
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
    for (const ctl of this.jobs.get(app) ?? []) ctl.abort(reason);
    return this.lock.run(app, fn, waitMs);
  }
}
