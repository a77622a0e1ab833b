// Makes the target match the database, safe to run at any moment (idempotent, keyed by release id):
// adopts containers of current releases, removes everything else it owns, restores routes, and
// reports crash loops instead of restarting them forever.
import type { AppStatus } from '@dreamnet/core';
import type { Deployer } from './deployer.js';
import { appHosts, releaseSpec } from './spec.js';
import type { DeployDeps } from './types.js';
import { maskedError, secretMasker } from '../logs/mask.js';

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Set by stop(), renewed by start(): aborts the per-app step in flight and keeps new passes out. */
  private halt = new AbortController();
  readonly lastStatus = new Map<string, AppStatus>();

  constructor(private readonly deps: DeployDeps, private readonly deployer: Deployer) {}

  /** At start-up: deployments left unfinished by a crash are closed, then a full pass. */
  async start(): Promise<void> {
    const { store } = this.deps;
    this.halt = new AbortController();
    const { signal: halted } = this.halt;
    // A pass that stop() cut short must not stand in for this full pass (pass() joins a running one).
    await this.running?.catch(() => {});
    if (halted.aborted) return;
    for (const d of store.deployments.unfinished()) {
      const app = store.apps.find(d.app);
      if (app && d.releaseId && app.current_release_id === d.releaseId) store.deployments.transition(d.id, 'healthy', 'completed by the reconciler after a restart');
      else store.deployments.transition(d.id, 'failed', 'interrupted: the platform restarted during this deployment');
    }
    try {
      await this.restoreRoutes(halted);
    } finally {
      // Cut short by stop(), not every route is restored; the next start() completes the table.
      if (!halted.aborted) this.deps.routes.completed();
    }
    await this.pass(true);
    if (halted.aborted) return;
    this.timer = setInterval(() => void this.pass(false).catch((err) => this.deps.log.warn({ err }, 'reconcile pass failed')), this.deps.config.reconcileIntervalMs);
    this.timer.unref();
  }

  /**
   * No pass starts after this call (neither the interval's nor an explicit pass()), and it resolves
   * once the running pass, if any, has ended — so the caller may close or swap the database.
   *
   * The per-app step in flight is aborted rather than waited for: an apply may sit in a health wait
   * for healthTimeoutMs (60 s by default), longer than a shutdown's grace period, and a restore must
   * not have a step write routes for a database being swapped. Aborting is safe: an aborted apply
   * removes the replicas it started and the old ones keep serving, and the next start()'s full pass
   * re-applies whatever this step did not finish. Not bounded by a timer: every target honours the
   * signal (contract test), and giving up early would let the step touch a closed database — the very
   * thing this waits for. What remains is a traffic switch's ack wait (drain timeout + 5 s).
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.halt.abort(new Error('the reconciler is stopping'));
    await this.running?.catch(() => {});
  }

  /**
   * Before the first full pass: every app's route as its running replicas stand, then the table is
   * complete and proxies are answered. The pass's switches then wait for the proxies' acks like a
   * deploy's; run while proxies could not have the table yet, a switch was acked by none and the
   * replicas it replaced stopped while a proxy still routed to them. Apps a deployment holds are
   * skipped (it sets their route), and a route is set only if the desired state did not move.
   */
  private async restoreRoutes(halted: AbortSignal): Promise<void> {
    const { store, target, routes, config, log } = this.deps;
    for (const { name } of store.apps.list()) {
      if (halted.aborted) return;
      await this.deployer.work.tryRun(name, async () => {
        const app = store.apps.find(name);
        if (!app?.current_release_id) return;
        const endpoints = (await target.endpoints(name)).filter((e) => e.releaseId === app.current_release_id);
        if (!halted.aborted && store.apps.find(name)?.current_release_id === app.current_release_id) routes.set(name, appHosts(config, name), endpoints);
      }).catch((err) => log.warn({ err, app: name }, 'could not restore the route of app'));
    }
  }

  /** One pass over every app. `full` also removes orphans and re-applies current releases. */
  pass(full: boolean): Promise<void> {
    if (this.halt.signal.aborted) return this.running ?? Promise.resolve();
    this.running ??= this.doPass(full, this.halt.signal).finally(() => { this.running = undefined; });
    return this.running;
  }

  /** Between apps the pass checks `halted`: a stopped pass ends after the step in flight. */
  private async doPass(full: boolean, halted: AbortSignal): Promise<void> {
    const { store, target, log } = this.deps;
    const { work } = this.deployer;
    const names = store.apps.list().map((a) => a.name);
    const known = new Set(names);
    const orphans = new Set((await target.inventory()).map((i) => i.app).filter((a) => !known.has(a)));
    for (const name of orphans) {
      if (halted.aborted) return;
      // In the app's slot and checked again: it may have been created since the list above.
      await work.tryRun(name, async () => {
        if (store.apps.find(name)) return;
        log.info({ app: name }, 'removing containers of an app that no longer exists');
        await target.remove(name);
      }).catch((err) => log.warn({ err, app: name }, 'could not remove containers of a deleted app'));
    }
    // Apps a deployment or deletion owns right now are skipped; holding the slot keeps both out
    // until this app is done, and a deletion cancels this app's step through `signal`.
    for (const name of names) {
      if (halted.aborted) return;
      await work.tryRun(name, (signal) => this.reconcileApp(name, full, AbortSignal.any([signal, halted])))
        .catch((err) => { if (!halted.aborted) log.warn({ err, app: name }, 'could not reconcile app'); });
    }
  }

  private async reconcileApp(name: string, full: boolean, signal: AbortSignal): Promise<void> {
    const { store, target, routes, config, log } = this.deps;
    // Read in the slot, not from the pass's list: a deletion that ran before us has removed it.
    const app = store.apps.find(name);
    if (!app) return;
    if (!app.current_release_id) { await target.prune(app.name, null); routes.remove(app.name); return; }
    const status = await target.status(app.name);
    this.lastStatus.set(app.name, status);
    if (status.crashLooping) { log.warn({ app: app.name }, 'app is crash-looping; not restarting it again'); return; }
    const live = status.replicas.filter((r) => r.releaseId === app.current_release_id && r.state !== 'exited');
    if (full || live.length < app.replicas) {
      const release = store.releases.get(app.name, app.current_release_id);
      const env = store.releases.config(app.name, release.id);
      const spec = releaseSpec(config, app, release, env);
      // A target's error may quote the replica's last log lines; the pass logs it, so mask the config.
      const mask = secretMasker(Object.values(env));
      await target.apply(spec, {
        signal,
        switchTraffic: async (endpoints) => {
          signal.throwIfAborted(); // also for a target that does not look at the signal itself
          const v = routes.set(app.name, appHosts(config, app.name), endpoints);
          await routes.waitForAcks(v, config.drainTimeoutMs + 5000);
        },
      }).catch((e: unknown) => { throw e === signal.reason ? e : maskedError(e, mask); });
    }
    // Only the current release's replicas are routed, never for an app being deleted, and not if
    // the desired state moved meanwhile (a restore swaps the database under running passes).
    const endpoints = (await target.endpoints(app.name)).filter((e) => e.releaseId === app.current_release_id);
    const fresh = store.apps.find(app.name);
    if (!signal.aborted && fresh?.current_release_id === app.current_release_id) routes.set(app.name, appHosts(config, app.name), endpoints);
  }
}
