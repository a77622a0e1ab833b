// The deploy pipeline: build → immutable release → rollout with a traffic switch. The database's
// `current_release_id` (desired state) moves only once the new replicas are healthy, so a crash at
// any point leaves either the old or the new release serving (the reconciler finishes the job).
import type { Readable } from 'node:stream';
import { DreamError, isDreamError } from '@dreamnet/core';
import type { AppRow, Deployment, Release } from '../db/index.js';
import { appHosts, releaseSpec } from './spec.js';
import { maskedError, secretMasker } from '../logs/mask.js';
import type { DeployDeps, Progress } from './types.js';
import { AppWork } from './app-work.js';

export interface SourceDeploy {
  context: () => Readable; gitSha?: string; description: string;
  /** Called with the queued deployment before it waits for the app's queue (uploads answer 202 with its id). */
  onQueued?: (dep: Deployment) => void;
}

/** Progress that masks secret values, carrying the masker for the deployment's failure reason. */
type MaskedProgress = Progress & { mask: (line: string) => string };

export class Deployer {
  /** One job at a time per app, shared with the reconciler and app deletion (which cancels jobs). */
  readonly work = new AppWork();

  constructor(private readonly deps: DeployDeps) {}

  /** Build from source and roll out. Resolves with the finished deployment (healthy or failed). */
  deploySource(appName: string, src: SourceDeploy, out: Progress = () => {}): Promise<Deployment> {
    const { store, builder } = this.deps;
    const dep = store.deployments.create(appName, src.description);
    src.onQueued?.(dep);
    return this.work.run(appName, async (signal) => {
      const log = this.logger(appName, dep.id, out);
      let release: Release;
      try {
        signal.throwIfAborted(); // the app was deleted while this waited: fail, build nothing
        store.deployments.transition(dep.id, 'building', 'build started');
        log(`-----> Building ${appName}${src.gitSha ? ` (${src.gitSha.slice(0, 7)})` : ''}`);
        const built = await builder.build({ app: appName, tag: dep.id.replace(/^dep_/, 'd-'), context: src.context(), onLine: (l) => log(`       ${l}`), signal });
        signal.throwIfAborted(); // a build that finished as the app was deleted: no release for it
        release = store.releases.create({ app: appName, image: built.image, imageId: built.imageId, kind: built.kind, gitSha: src.gitSha, description: src.description, config: store.config.values(appName) });
        log(`-----> Built ${built.image} (${built.kind}); release v${release.version}`);
      } catch (e) {
        // A cancelled build rejects with whatever its transport says (an AbortError); the deployment
        // fails with the reason it was cancelled for ("the app was deleted") instead.
        return this.fail(dep.id, appName, signal.aborted ? signal.reason : e, log);
      }
      return this.rollout(appName, release, dep.id, log, signal);
    });
  }

  /** Roll out a new release made from an existing image (config change, rollback, restart). */
  deployFrom(appName: string, base: Release, config: Record<string, string>, description: string, out: Progress = () => {}): Promise<{ deployment: Deployment; release: Release }> {
    const { store } = this.deps;
    return this.work.run(appName, async (signal) => {
      signal.throwIfAborted(); // the app was deleted while this waited
      const release = store.releases.create({ app: appName, image: base.image, imageId: base.imageId, kind: base.kind, gitSha: base.gitSha, description, config });
      const dep = store.deployments.create(appName, description, release.id);
      // A rollback runs an older config: its values are masked too, not only the current ones.
      const deployment = await this.rollout(appName, release, dep.id, this.logger(appName, dep.id, out, config), signal);
      return { deployment, release };
    });
  }

  /** Re-apply the current release (scale). */
  reapply(appName: string, description: string, out: Progress = () => {}): Promise<Deployment> {
    const { store } = this.deps;
    return this.work.run(appName, async (signal) => {
      signal.throwIfAborted(); // the app was deleted while this waited
      const app = store.apps.get(appName);
      if (!app.current_release_id) throw new DreamError('NO_RELEASE');
      const release = store.releases.get(appName, app.current_release_id);
      const dep = store.deployments.create(appName, description, release.id);
      return this.rollout(appName, release, dep.id, this.logger(appName, dep.id, out, store.releases.config(appName, release.id)), signal);
    });
  }

  /** `signal` aborts when the app is being deleted: the target drops what it started and throws. */
  private async rollout(appName: string, release: Release, depId: string, log: MaskedProgress, signal: AbortSignal): Promise<Deployment> {
    const { store, target } = this.deps;
    store.deployments.transition(depId, 'deploying', `rolling out v${release.version}`, release.id);
    log(`-----> Deploying v${release.version}`);
    let switched = false;
    try {
      const app = store.apps.get(appName);
      const spec = releaseSpec(this.deps.config, app, release, store.releases.config(appName, release.id));
      await target.apply(spec, {
        signal,
        onProgress: (l) => log(`       ${l}`),
        switchTraffic: async (endpoints) => {
          await this.switchTraffic(app, release, endpoints, log);
          switched = true;
        },
      });
    } catch (e) {
      if (!switched) return this.fail(depId, appName, e, log);
      log(`       warning: cleaning up the previous release failed: ${log.mask((e as Error).message)}`);
    }
    store.deployments.transition(depId, 'healthy', `v${release.version} is serving`);
    store.deployments.supersede(appName, depId);
    log(`-----> v${release.version} is live`);
    return store.deployments.get(appName, depId);
  }

  /** Desired state first, then the proxies; resolves once they have drained the old endpoints. */
  async switchTraffic(app: AppRow, release: Release, endpoints: { host: string; port: number }[], log: Progress): Promise<void> {
    const { store, routes, config } = this.deps;
    store.apps.update(app.name, { current_release_id: release.id });
    const version = routes.set(app.name, appHosts(config, app.name), endpoints);
    log('       switching traffic');
    const acked = await routes.waitForAcks(version, config.drainTimeoutMs + 5000);
    if (!acked) log('       warning: a proxy did not confirm the switch in time');
  }

  private fail(depId: string, appName: string, raw: unknown, log: MaskedProgress): Deployment {
    // The reason is stored, shown to read tokens and sent in notifications: masked like the log lines.
    const e = maskedError(raw, log.mask);
    const reason = isDreamError(e) ? e.message : `internal error: ${e.message}`;
    if (!isDreamError(e)) this.deps.log.error({ err: e, app: appName }, 'deployment failed');
    this.deps.store.deployments.transition(depId, 'failed', reason);
    log(`-----> Deploy failed: ${reason}`);
    const app = this.deps.store.apps.find(appName);
    if (app?.current_release_id) log('       The previous release keeps serving.');
    return this.deps.store.deployments.get(appName, depId);
  }

  /** Build and deploy output, secrets masked, also goes to these (the app's log store). */
  readonly lineListeners: Array<(app: string, depId: string, line: string) => void> = [];

  /** `releaseConfig`: the config the rollout runs, when it is not the app's current one (rollback). */
  private logger(appName: string, depId: string, out: Progress, releaseConfig: Record<string, string> = {}): MaskedProgress {
    // One masker over both sets, so that the longest value is always masked whole.
    const mask = secretMasker([...Object.values(this.deps.store.config.values(appName)), ...Object.values(releaseConfig)]);
    const log = (raw: string) => {
      const line = mask(raw);
      this.deps.store.deployments.appendLog(depId, line + '\n');
      for (const l of this.lineListeners) l(appName, depId, line);
      out(line);
    };
    return Object.assign(log, { mask });
  }
}
