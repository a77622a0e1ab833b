// The api process: config → data dir secrets → database → target → reconciler → listen.
import path from 'node:path';
import pino from 'pino';
import { ConfigError, internalToken, keepRunningWithoutStdio, loadConfig, type Config, type Target } from '@dreamnet/core';
import { DockerHostTarget, FakeTarget } from '@dreamnet/targets';
import { dockerClient } from '@dreamnet/targets/dockerode';
import { buildApp } from './app.js';
import { ensureAdminToken, loadSealer } from './bootstrap.js';
import { openStore } from './db/index.js';
import { remoteBuilder } from './deploy/builder-client.js';
import { Deployer } from './deploy/deployer.js';
import type { BuildService } from './deploy/types.js';
import { Reconciler } from './deploy/reconciler.js';
import { GitService } from './git/service.js';
import { RouteTable } from './routing/table.js';

function makeTarget(config: Config): Target {
  if (config.target === 'fake') return new FakeTarget();
  return new DockerHostTarget({ docker: dockerClient(config.dockerSocket), network: config.dockerNetwork, healthTimeoutMs: config.healthTimeoutMs });
}

/** `opts` replaces the target and the builder (tests: a fake target whose replicas are real servers). */
export async function startApi(config: Config, opts: { target?: Target; builder?: BuildService } = {}) {
  process.umask(0o077); // everything under the data dir is the platform's alone (db, WAL, repos)
  const log = pino({ level: config.logLevel, name: 'api', redact: ['req.headers.authorization'] });
  const sealer = loadSealer(config.dataDir);
  const store = openStore(path.join(config.dataDir, 'dream.db'), sealer);
  const adminToken = ensureAdminToken(store, config.dataDir);
  const token = internalToken(config);
  const target = opts.target ?? makeTarget(config);
  // Read through `store` each time: a restore swaps its repositories.
  const routes = new RouteTable({ complete: false, registry: {
    seenSince: (t) => store.proxies.seenSince(t), seen: (id, at) => store.proxies.seen(id, at), forget: (id, before) => store.proxies.forget(id, before),
  } });
  const deps = { config, store, target, builder: opts.builder ?? remoteBuilder(config.builderUrl, token), routes, log };
  const deployer = new Deployer(deps);
  const reconciler = new Reconciler(deps, deployer);
  const git = new GitService(path.join(config.dataDir, 'git'));
  const app = await buildApp({ ...deps, deployer, reconciler, git, internalToken: token });
  await app.listen({ host: config.apiHost, port: config.apiPort });
  void reconciler.start().catch((err) => log.error({ err }, 'first reconcile pass failed'));
  return { app, adminToken, deployer, close: async () => {
    // The reconciler first: its running pass ends before the database closes under it.
    await reconciler.stop();
    await app.close();
    store.db.close();
  } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  keepRunningWithoutStdio();
  let config: Config;
  try { config = loadConfig(); } catch (e) {
    if (e instanceof ConfigError) { console.error(`api: ${e.message}`); process.exit(2); }
    throw e;
  }
  const api = await startApi(config);
  if (api.adminToken) {
    console.log(`\nDreamNet: first start — an admin token was generated and saved to ${path.join(config.dataDir, 'admin-token')} (mode 0600).`);
    console.log(`Log in with:  npx dream login --url ${config.publicApiUrl} --token "$(cat ${path.join(config.dataDir, 'admin-token')})"\n`);
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void api.close().then(() => process.exit(0)));
}
