// The two steps of a rollout on one Docker engine that touch containers: make each replica of the
// release exist and run (reusing what a restarted api finds), then wait until all answer their
// health check. apply.ts sequences them, switches traffic and stops the old release.
import type Dockerode from 'dockerode';
import { DreamError, type ApplyHooks, type Endpoint, type ReleaseSpec } from '@dreamnet/core';
import { dockerError, isConflict, type Replica } from './client.js';
import { lastLines, waitHealthy } from './health.js';
import { createOptions } from './spec.js';

/** What both steps work on: the engine, the app network, the release being rolled out. */
export interface RolloutScope { docker: Dockerode; network: string; spec: ReleaseSpec }

/**
 * Reuses a running replica `r` of the release, starts a stopped one, or creates it; the container
 * id is pushed on `touched` when this call started it (so a failed rollout removes it again).
 */
export async function ensureReplica({ docker, network, spec }: RolloutScope, r: number, all: Replica[], touched: string[]): Promise<string> {
  const found = all.find((c) => c.releaseId === spec.releaseId && c.replica === r);
  if (found?.state === 'running' || found?.state === 'restarting') return found.id;
  let id = found?.id;
  if (!id) {
    try {
      id = (await docker.createContainer(createOptions(spec, r, network))).id;
    } catch (e) {
      if (isConflict(e)) throw new DreamError('DEPLOY_FAILED', `A container named for replica ${r} of ${spec.app} already exists but is not labelled as ours; remove it and deploy again.`);
      throw dockerError(e, `create replica ${r} of ${spec.app} from ${spec.image}`);
    }
  }
  touched.push(id);
  try {
    await docker.getContainer(id).start();
  } catch (e) {
    throw dockerError(e, `start replica ${r} of ${spec.app}`);
  }
  return id;
}

/**
 * Endpoints of replicas `ids` once every one is healthy; the first failure stops the others' waits,
 * and so does hooks.signal (then its reason is thrown, not a health failure).
 */
export async function waitAllHealthy({ docker, network, spec }: RolloutScope, ids: string[], defaultTimeoutMs: number, hooks: ApplyHooks): Promise<Endpoint[]> {
  const check = { path: spec.healthCheck.path, timeoutMs: spec.healthCheck.timeoutMs || defaultTimeoutMs };
  hooks.signal?.throwIfAborted();
  const abort = new AbortController();
  const cancel = () => abort.abort();
  hooks.signal?.addEventListener('abort', cancel, { once: true });
  try {
    return await Promise.all(ids.map(async (id, i) => {
      const replica = i + 1;
      let host: string;
      try {
        host = await waitHealthy(docker, { id, port: spec.port, network, check, signal: abort.signal });
      } catch (e) {
        abort.abort();
        hooks.signal?.throwIfAborted();
        // The replica's own last words say why (a crash, a wrong port) better than our timeout does.
        const lines = await lastLines(docker, id, 20);
        const tail = lines.length > 0 ? ` Last log lines:\n${lines.join('\n')}` : ' It printed nothing.';
        throw new DreamError('HEALTH_CHECK_FAILED',
          `Replica ${replica}/${spec.replicas} of ${spec.app} did not become healthy: ${(e as Error).message}.${tail}`);
      }
      hooks.onProgress?.(`replica ${replica}/${spec.replicas} healthy`);
      return { host, port: spec.port, releaseId: spec.releaseId, replica };
    }));
  } finally {
    hooks.signal?.removeEventListener('abort', cancel);
    abort.abort();
  }
}
