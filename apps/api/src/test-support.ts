// Test wiring: the real api with an in-memory database, the fake target and an in-process builder
// stand-in (the real builder is exercised by test/e2e). No module mocks.
import crypto from 'node:crypto';
import pino from 'pino';
import { DreamError, Sealer, loadConfig, type ApplyHooks, type ReleaseSpec } from '@dreamnet/core';
import { FakeTarget } from '@dreamnet/targets';
import { buildApp } from './app.js';
import { openStore } from './db/index.js';
import { Deployer } from './deploy/deployer.js';
import { Reconciler } from './deploy/reconciler.js';
import type { BuildService } from './deploy/types.js';
import { GitService } from './git/service.js';
import { RouteTable } from './routing/table.js';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

export class StubBuilder implements BuildService {
  failNext: string | null = null;
  count = 0;
  async build(req: Parameters<BuildService['build']>[0]) {
    for await (const _ of req.context) void _;
    req.onLine('Step 1/1 : FROM scratch');
    if (this.failNext) { const m = this.failNext; this.failNext = null; throw new DreamError('BUILD_FAILED', m); }
    this.count++;
    return { image: `dream-app/${req.app}:${req.tag}`, imageId: `sha256:${crypto.createHash('sha256').update(req.tag).digest('hex')}`, kind: 'node' };
  }
}

/** The fake target, remembering the spec of each app's running release (what a container would get). */
export class RecordingTarget extends FakeTarget {
  private readonly specs = new Map<string, ReleaseSpec>();
  override async apply(spec: ReleaseSpec, hooks?: ApplyHooks) {
    const r = await super.apply(spec, hooks);
    this.specs.set(spec.app, spec);
    return r;
  }
  runningSpec(app: string): ReleaseSpec | undefined { return this.specs.get(app); }
}

/**
 * `log` replaces the silent logger, for tests that look at what the api logs; `target` replaces the
 * fake target (e.g. one whose replicas are real servers a proxy can reach: FakeTarget's `address`).
 */
export async function testApi(env: Record<string, string> = {}, opts: { log?: pino.Logger; target?: RecordingTarget } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-api-test-'));
  // Route-enumerating tests send many wrong tokens from one address: no auth rate limit unless asked.
  const config = loadConfig({ DREAM_DATA_DIR: dataDir, DREAM_TARGET: 'fake', DREAM_LOG_LEVEL: 'silent', DREAM_HTTP_PORT: '8080', DREAM_AUTH_FAILURES_PER_MINUTE: '1000000', ...env });
  const store = openStore(':memory:', new Sealer(crypto.randomBytes(32)));
  const target = opts.target ?? new RecordingTarget();
  const builder = new StubBuilder();
  const routes = new RouteTable();
  const log = opts.log ?? pino({ level: 'silent' });
  const deps = { config, store, target, builder, routes, log };
  const deployer = new Deployer(deps);
  const reconciler = new Reconciler(deps, deployer);
  const git = new GitService(path.join(dataDir, 'git'));
  const internalToken = 'int_test_' + crypto.randomBytes(8).toString('hex');
  const app = await buildApp({ ...deps, deployer, reconciler, git, internalToken });
  const admin = store.tokens.create('admin', 'admin').token;
  const auth = { authorization: `Bearer ${admin}` };
  return { app, store, target, builder, routes, deployer, config, admin, auth, internalToken, dataDir, reconciler, reconcilerPass: () => reconciler.pass(false) };
}

/** A tar stream stand-in for source (the stub builder only drains it). */
export function source(text = 'x') {
  return async function* () { yield Buffer.from(text); };
}
