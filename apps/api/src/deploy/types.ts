import type { Readable } from 'node:stream';
import type { Config, Target } from '@dreamnet/core';
import type pino from 'pino';
import type { Store } from '../db/index.js';
import type { RouteTable } from '../routing/table.js';

/** Turns a tar of source into an image; the real one is the builder process (apps/builder). */
export interface BuildService {
  /**
   * `signal` is the deployment's job signal (AppWork): it aborts when the app is deleted, and the
   * build must then stop and reject promptly — the deletion waits for it (delete-app.ts).
   */
  build(req: { app: string; tag: string; context: Readable; onLine: (line: string) => void; signal: AbortSignal }): Promise<{ image: string; imageId: string; kind: string }>;
}

export interface DeployDeps {
  config: Config;
  store: Store;
  target: Target;
  builder: BuildService;
  routes: RouteTable;
  log: pino.Logger;
}

/** Where a deployment's progress goes: the pusher's `remote:` lines, the stored build log. */
export type Progress = (line: string) => void;
