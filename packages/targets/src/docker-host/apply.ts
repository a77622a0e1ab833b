// A release's rollout on one Docker engine, in order: each replica made to run (the network made
// again, once, if someone pruned it), all health-checked, traffic switched, then the old release and
// surplus replicas stopped. Before the switch a failure removes what this rollout started, so the old
// release never stops serving. DockerHostTarget.apply runs it under the app's lock.
import type Dockerode from 'dockerode';
import { isDreamError, type ApplyHooks, type Endpoint, type ReleaseSpec, type Rollout } from '@dreamnet/core';
import { SERVING, currentRelease, dockerError, listReplicas, removeNow, stopAndRemove } from './client.js';
import { ensureReplica, waitAllHealthy } from './rollout.js';
import type { DockerHostOptions } from './target.js';

/** What a rollout uses of its DockerHostTarget: engine, network, stop grace, options and shared state. */
export interface ApplyScope {
  docker: Dockerode;
  network: string;
  grace: number;
  opts: DockerHostOptions;
  /** The target's `app/release` keys being rolled out (endpoints() skips them until switchTraffic ran). */
  pending: Set<string>;
  /** The target's network, made once; after forgetNetwork() the next call makes it again. */
  ensureNetwork(): Promise<void>;
  forgetNetwork(): void;
}

/** Rolls `spec` out on the target `t` describes (DockerHostTarget.apply, without the lock). */
export async function applyRelease(t: ApplyScope, spec: ReleaseSpec, hooks: ApplyHooks): Promise<Rollout> {
  await t.ensureNetwork();
  const all = await listReplicas(t.docker, t.network, spec.app);
  const key = `${spec.app}/${spec.releaseId}`;
  const isNew = currentRelease(all, t.pending, SERVING) !== spec.releaseId;
  if (isNew) t.pending.add(key);
  const touched: string[] = [];
  const ids: string[] = [];
  const scope = { docker: t.docker, network: t.network, spec };
  let endpoints: Endpoint[];
  try {
    for (let r = 1; r <= spec.replicas; r++) {
      hooks.signal?.throwIfAborted();
      const mark = touched.length;
      const id = await ensureReplica(scope, r, all, touched).catch(async (e: unknown) => {
        // Someone removed the network since we made it (docker network prune): make it again, once.
        if (!/network \S+ not found/i.test(String((e as Error).message))) throw e;
        const dead = touched.splice(mark);
        for (const d of dead) await removeNow(t.docker, d);
        t.forgetNetwork();
        await t.ensureNetwork();
        return ensureReplica(scope, r, all.filter((c) => !dead.includes(c.id)), touched);
      });
      ids.push(id);
      hooks.onProgress?.(`replica ${r}/${spec.replicas} started`);
    }
    endpoints = await waitAllHealthy(scope, ids, t.opts.healthTimeoutMs || 60_000, hooks);
    hooks.signal?.throwIfAborted();
    await hooks.switchTraffic?.(endpoints);
  } catch (e) {
    // Not switched: drop what this call started; the old release never stopped serving.
    await Promise.all(touched.map((id) => removeNow(t.docker, id).catch(() => {})));
    t.opts.log?.warn({ app: spec.app, release: spec.releaseId, err: String(e) }, 'release failed');
    throw isDreamError(e) || e === hooks.signal?.reason ? e : dockerError(e, `run ${spec.app}`);
  } finally {
    t.pending.delete(key);
  }
  // Traffic has moved: old releases and surplus replicas of this one can stop now. A failure here
  // must never touch the new replicas, which serve already.
  const victims = all.filter((c) => c.releaseId !== spec.releaseId || c.replica > spec.replicas);
  await Promise.all(victims.map((c) => stopAndRemove(t.docker, c.id, t.grace)));
  if (victims.length > 0) hooks.onProgress?.(`stopped ${victims.length} old replica(s)`);
  t.opts.log?.info({ app: spec.app, release: spec.releaseId, replicas: spec.replicas }, 'release applied');
  return { releaseId: spec.releaseId, endpoints };
}
