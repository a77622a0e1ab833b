// Small dockerode wrappers the DockerHostTarget is built from: list the platform's containers, read
// their network address, stop them gracefully, ensure the bridge network, map Docker errors.
import type Dockerode from 'dockerode';
import { DreamError, isDreamError } from '@dreamnet/core';
import { labelFilter, networkCreateOptions } from './spec.js';
import { readLabels, type ReplicaLabels } from './state.js';

export interface Replica extends ReplicaLabels {
  id: string;
  /** Docker's list state: created | running | restarting | exited | dead | paused. */
  state: string;
  created: number;
  ip: string | null;
}

function statusOf(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e ? Number((e as { statusCode: unknown }).statusCode) : undefined;
}

/** A Docker failure as a catalogue error: engine down → TARGET_UNAVAILABLE, anything else → DEPLOY_FAILED. */
export function dockerError(e: unknown, what: string): DreamError {
  if (isDreamError(e)) return e;
  const code = typeof e === 'object' && e !== null ? (e as { code?: string }).code : undefined;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') {
    return new DreamError('TARGET_UNAVAILABLE', `The Docker engine is not reachable (${code}) while trying to ${what}.`);
  }
  const msg = e instanceof Error ? e.message.replace(/^\(HTTP code \d+\)\s*\S+\s*-\s*/, '') : String(e);
  return new DreamError('DEPLOY_FAILED', `Docker could not ${what}: ${msg.trim()}`);
}

export function isNotFound(e: unknown): boolean { return statusOf(e) === 404; }
export function isConflict(e: unknown): boolean { return statusOf(e) === 409; }

/**
 * Every managed container (of one app) on `network`, stopped ones included. The network scopes a
 * target: two platforms (or test suites) sharing one engine on different networks never see — and so
 * never adopt or remove — each other's replicas.
 */
export async function listReplicas(docker: Dockerode, network: string, app?: string): Promise<Replica[]> {
  let infos: Dockerode.ContainerInfo[];
  try {
    infos = await docker.listContainers({ all: true, filters: labelFilter(app) });
  } catch (e) {
    throw dockerError(e, 'list containers');
  }
  const out: Replica[] = [];
  for (const c of infos) {
    const l = readLabels(c.Labels);
    if (!l || (app !== undefined && l.app !== app)) continue;
    const nets = c.NetworkSettings?.Networks ?? {};
    if (!(network in nets) && c.HostConfig?.NetworkMode !== network) continue;
    const ip = nets[network]?.IPAddress || null;
    out.push({ ...l, id: c.Id, state: c.State, created: c.Created, ip });
  }
  return out;
}

/** The states currentRelease() is asked about: a replica that serves, or any replica still there. */
export const SERVING = ['running'];
export const ANY = ['created', 'running', 'restarting', 'exited', 'dead', 'paused'];

/**
 * The release that serves: the newest release (by version, then container creation) with a replica in `states`,
 * skipping releases still being rolled out by apply() (they serve only after switchTraffic).
 */
export function currentRelease(replicas: Replica[], pending: Set<string>, states: string[]): string | null {
  let best: Replica | null = null;
  for (const r of replicas) {
    if (pending.has(`${r.app}/${r.releaseId}`) || !states.includes(r.state)) continue;
    if (!best || r.version > best.version || (r.version === best.version && r.created > best.created)) best = r;
  }
  return best?.releaseId ?? null;
}

/** SIGTERM, up to `graceSec` to finish in-flight work, SIGKILL, then remove. Gone already is fine. */
export async function stopAndRemove(docker: Dockerode, id: string, graceSec: number): Promise<void> {
  const c = docker.getContainer(id);
  try {
    await c.stop({ t: graceSec });
  } catch (e) {
    if (!isNotFound(e) && statusOf(e) !== 304) throw dockerError(e, `stop container ${id.slice(0, 12)}`);
  }
  await removeNow(docker, id);
}

export async function removeNow(docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (e) {
    // 409 "removal already in progress" means someone else is finishing the job.
    if (!isNotFound(e) && !isConflict(e)) throw dockerError(e, `remove container ${id.slice(0, 12)}`);
  }
}

export async function ensureNetwork(docker: Dockerode, network: string): Promise<void> {
  try {
    await docker.getNetwork(network).inspect();
    return;
  } catch (e) {
    if (!isNotFound(e)) throw dockerError(e, `inspect network ${network}`);
  }
  try {
    await docker.createNetwork(networkCreateOptions(network));
  } catch (e) {
    if (!isConflict(e)) throw dockerError(e, `create network ${network}`);
  }
}

export async function ipOf(docker: Dockerode, id: string, network: string): Promise<string | null> {
  const info = await docker.getContainer(id).inspect();
  return info.NetworkSettings?.Networks?.[network]?.IPAddress || null;
}
