import type { Config, Target } from '@dreamnet/core';
import type pino from 'pino';
import type { Store } from './db/index.js';
import type { Deployer } from './deploy/deployer.js';
import type { Reconciler } from './deploy/reconciler.js';
import type { RouteTable } from './routing/table.js';
import type { GitService } from './git/service.js';

/** Everything routes need, passed in (tests build it with an in-memory db and the fake target). */
export interface Services {
  config: Config;
  store: Store;
  target: Target;
  deployer: Deployer;
  reconciler: Reconciler;
  routes: RouteTable;
  git: GitService;
  internalToken: string;
  log: pino.Logger;
}
