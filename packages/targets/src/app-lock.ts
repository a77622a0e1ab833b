// Calls that create or remove an app's containers (apply, remove, prune) run one after the other per
// app in this process. remove() must list the containers after a rollout in progress has ended — or,
// cancelled, has removed what it started — or a replica that rollout creates after the list survives.

export class AppLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(app: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(app) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.tails.set(app, next);
    // Forget settled tails: one entry per app ever deployed would otherwise stay for good.
    void next.catch(() => {}).finally(() => { if (this.tails.get(app) === next) this.tails.delete(app); });
    return next;
  }
}
