import type { Sealer } from '@dreamnet/core';
import { AppsRepo } from './apps.js';
import { ConfigVarsRepo } from './config-vars.js';
import { DeploymentsRepo } from './deployments.js';
import { DomainsRepo } from './domains.js';
import { openDb, type Db } from './open.js';
import { ProxiesRepo } from './proxies.js';
import { ReleasesRepo } from './releases.js';
import { TokensRepo } from './tokens.js';
import { IdempotencyRepo } from '../idempotency/repo.js';
import { HooksRepo } from '../webhooks/repo.js';

export interface Store {
  db: Db;
  apps: AppsRepo;
  config: ConfigVarsRepo;
  releases: ReleasesRepo;
  deployments: DeploymentsRepo;
  tokens: TokensRepo;
  idempotency: IdempotencyRepo;
  hooks: HooksRepo;
  domains: DomainsRepo;
  proxies: ProxiesRepo;
}

export function openStore(file: string, sealer: Sealer): Store {
  const db = openDb(file);
  return {
    db,
    apps: new AppsRepo(db),
    config: new ConfigVarsRepo(db, sealer),
    releases: new ReleasesRepo(db, sealer),
    deployments: new DeploymentsRepo(db),
    tokens: new TokensRepo(db),
    idempotency: new IdempotencyRepo(db),
    hooks: new HooksRepo(db, sealer),
    domains: new DomainsRepo(db),
    proxies: new ProxiesRepo(db),
  };
}

export { openDb, type Db } from './open.js';
export type { AppRow } from './apps.js';
export type { Release } from './releases.js';
export type { Deployment } from './deployments.js';
export type { TokenRow, Scope } from './tokens.js';
export type { TokensRepo } from './tokens.js';
