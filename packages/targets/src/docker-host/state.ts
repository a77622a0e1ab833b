// Pure reading of what Docker reports: labels → replica identity, inspect → replica state, HTTP status
// → healthy. Kept apart from the client so the rules are tested without a Docker engine.
import { LABEL, type ReplicaStatus } from '@dreamnet/core';
import { MAX_RESTARTS } from './spec.js';

export interface ReplicaLabels {
  app: string;
  releaseId: string;
  replica: number;
  port: number;
  version: number;
}

export function readLabels(labels: Record<string, string> | undefined): ReplicaLabels | null {
  if (!labels || labels[LABEL.managed] !== 'true') return null;
  const app = labels[LABEL.app];
  const releaseId = labels[LABEL.release];
  const replica = Number(labels[LABEL.replica]);
  const port = Number(labels[LABEL.port]);
  const version = Number(labels[LABEL.version]);
  if (!app || !releaseId || !Number.isInteger(replica) || replica < 1) return null;
  return { app, releaseId, replica, port: Number.isInteger(port) ? port : 0, version: Number.isFinite(version) ? version : 0 };
}

/** The parts of `docker inspect` State that decide a replica's state. */
export interface DockerState {
  Status: string;
  Running: boolean;
  Restarting: boolean;
  ExitCode: number;
}

export function replicaState(state: DockerState, restartCount: number): ReplicaStatus['state'] {
  const hitLimit = restartCount >= MAX_RESTARTS;
  if (state.Restarting) return hitLimit ? 'crash-loop' : 'restarting';
  if (state.Running) return 'running';
  if (state.Status === 'created') return 'starting';
  // exited or dead: a failing exit after Docker used up its retries is a crash loop that ended.
  return hitLimit && state.ExitCode !== 0 ? 'crash-loop' : 'exited';
}

/** path null: anything that answers below 500 is up; a path: the app promises 2xx/3xx there. */
export function isHealthyStatus(status: number, path: string | null): boolean {
  return path === null ? status < 500 : status >= 200 && status < 400;
}

export function healthUrl(host: string, port: number, path: string | null): string {
  const p = path ?? '/';
  return `http://${host}:${port}${p.startsWith('/') ? p : `/${p}`}`;
}
