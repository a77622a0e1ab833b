// In-memory Target for API tests: same semantics as docker-host (idempotent apply keyed by release,
// switchTraffic before old replicas stop, prune, remove) with no Docker. Deterministic ids (fake-1,
// fake-2, …) and controllable failures.
import { PassThrough } from 'node:stream';
import { DreamError, requireArgv, type AppStatus, type ApplyHooks, type Endpoint, type ExecSession, type Inventory, type LogLine,
  type LogQuery, type ReleaseSpec, type Rollout, type RunHandle, type RunSpec, type Target } from '@dreamnet/core';
import { FakeLogs } from './logs.js';
import { FakeRuns } from './runs.js';
import { AppLock } from '@dreamnet/core';

interface FakeReplica {
  id: string;
  app: string;
  releaseId: string;
  replica: number;
  image: string;
  /** The address endpoints() hands out (fake unless options.address says otherwise). */
  host: string;
  port: number;
  state: 'running' | 'crash-loop';
  restartCount: number;
}

export type FakeExecHandler = (app: string, cmd: string[]) => { output: string; exitCode: number };

export interface FakeTargetOptions {
  /** Address given to each replica; default 127.0.0.1:1 (nothing listens there). */
  address?: (spec: ReleaseSpec, replica: number) => { host: string; port: number };
}

export class FakeTarget implements Target {
  readonly kind = 'fake' as const;
  private replicas: FakeReplica[] = [];
  private current = new Map<string, string>();
  private failing = new Set<string>();
  private readonly logStore = new FakeLogs();
  private nextId = 1;
  /** As on docker-host: remove/prune of an app wait for its apply in progress (and see what it made). */
  private readonly lock = new AppLock();
  private execHandler: FakeExecHandler = (_app, cmd) =>
    cmd[0] === 'echo' ? { output: `${cmd.slice(1).join(' ')}\n`, exitCode: 0 } : { output: '', exitCode: 0 };
  /** One-off runs: local processes standing in for containers (see runs.ts). */
  private readonly runs = new FakeRuns((app, id, stream, line) => this.logStore.record({ app, at: new Date().toISOString(), replica: 0, stream, line, id }));
  /** Every switchTraffic the fake made, in order (what a proxy would have been told). */
  readonly switches: Array<{ app: string; endpoints: Endpoint[] }> = [];

  constructor(private readonly opts: FakeTargetOptions = {}) {}

  /** apply() of a spec with this image throws HEALTH_CHECK_FAILED, like an app that never answers. */
  failHealthFor(image: string): void { this.failing.add(image); }
  /** Undo failHealthFor. */
  heal(image: string): void { this.failing.delete(image); }
  /** The app's running replicas crash after deploy and Docker gives up: status() says crash-loop. */
  crash(app: string): void {
    for (const x of this.replicas) if (x.app === app) { x.state = 'crash-loop'; x.restartCount = 3; }
  }
  onExec(handler: FakeExecHandler): void { this.execHandler = handler; }
  /** Append a line to a replica's log, as if the app printed it. */
  print(app: string, line: string, replica = 1, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const rep = this.replicas.find((x) => x.app === app && x.replica === replica && x.releaseId === this.current.get(app))
      ?? this.replicas.find((x) => x.app === app && x.replica === replica);
    this.logStore.record({ app, at: new Date().toISOString(), replica, stream, line, ...(rep ? { id: rep.id } : {}) });
  }

  private live(id: string): boolean {
    return this.replicas.some((x) => x.id === id) || this.runs.running(id);
  }

  apply(spec: ReleaseSpec, hooks: ApplyHooks = {}): Promise<Rollout> {
    return this.lock.run(spec.app, () => this.rollout(spec, hooks));
  }

  private async rollout(spec: ReleaseSpec, hooks: ApplyHooks): Promise<Rollout> {
    hooks.signal?.throwIfAborted();
    const created: FakeReplica[] = [];
    for (let r = 1; r <= spec.replicas; r++) {
      if (this.find(spec.app, spec.releaseId, r)) continue;
      const addr = this.opts.address?.(spec, r) ?? { host: '127.0.0.1', port: 1 };
      const rep: FakeReplica = { id: `fake-${this.nextId++}`, app: spec.app, releaseId: spec.releaseId, replica: r,
        image: spec.image, ...addr, state: 'running', restartCount: 0 };
      this.replicas.push(rep);
      created.push(rep);
      hooks.onProgress?.(`replica ${r}/${spec.replicas} started`);
      this.print(spec.app, `replica ${r} of release ${spec.releaseId} started`, r);
    }
    if (this.failing.has(spec.image)) {
      this.replicas = this.replicas.filter((x) => !created.includes(x));
      throw new DreamError('HEALTH_CHECK_FAILED',
        `Replica 1 of ${spec.app} did not answer on port ${spec.port} within ${spec.healthCheck.timeoutMs} ms.`);
    }
    for (let r = 1; r <= spec.replicas; r++) hooks.onProgress?.(`replica ${r}/${spec.replicas} healthy`);
    const endpoints = this.replicas
      .filter((x) => x.app === spec.app && x.releaseId === spec.releaseId && x.replica <= spec.replicas)
      .sort((a, b) => a.replica - b.replica)
      .map((x) => this.endpoint(x));
    try {
      hooks.signal?.throwIfAborted(); // cancelled before the switch: drop what this call started
      await hooks.switchTraffic?.(endpoints);
    } catch (e) {
      this.replicas = this.replicas.filter((x) => !created.includes(x));
      throw e;
    }
    this.switches.push({ app: spec.app, endpoints });
    this.current.set(spec.app, spec.releaseId);
    // Old releases and surplus replicas of this release stop only after traffic moved.
    this.replicas = this.replicas.filter((x) => x.app !== spec.app || (x.releaseId === spec.releaseId && x.replica <= spec.replicas));
    this.logStore.gone();
    return { releaseId: spec.releaseId, endpoints };
  }

  async status(app: string): Promise<AppStatus> {
    const mine = this.replicas.filter((x) => x.app === app);
    const releaseId = this.current.get(app) ?? null;
    return {
      app,
      releaseId,
      replicas: mine.map((x) => ({ id: x.id, releaseId: x.releaseId, replica: x.replica, state: x.state,
        restartCount: x.restartCount, ...(x.state === 'crash-loop' ? { exitCode: 1 } : {}) })),
      healthy: mine.filter((x) => x.releaseId === releaseId && x.state === 'running').length,
      crashLooping: mine.some((x) => x.state === 'crash-loop'),
    };
  }

  async endpoints(app: string): Promise<Endpoint[]> {
    const releaseId = this.current.get(app);
    return this.replicas
      .filter((x) => x.app === app && x.releaseId === releaseId && x.state === 'running')
      .sort((a, b) => a.replica - b.replica)
      .map((x) => this.endpoint(x));
  }

  async *logs(app: string, opts: LogQuery): AsyncIterable<LogLine> {
    if (opts.replicaId !== undefined && !this.known(app, opts.replicaId)) throw new DreamError('NOT_FOUND', `${app} has no replica or run ${opts.replicaId}.`);
    yield* this.logStore.read(app, opts, (id) => this.live(id));
  }

  /**
   * The fake's replicas are this machine: the argv is `cmd` itself, run locally (in the api's pty).
   * Checks what docker-host checks: a non-empty argv and a running replica of the current release.
   */
  async attachArgv(app: string, cmd: string[], opts: { replica?: number } = {}): Promise<string[]> {
    requireArgv(cmd);
    const running = this.replicas.filter((x) => x.app === app && x.state === 'running' && x.releaseId === this.current.get(app));
    const pick = opts.replica !== undefined ? running.find((x) => x.replica === opts.replica) : running.sort((a, b) => a.replica - b.replica)[0];
    if (!pick) throw new DreamError('NO_RELEASE', opts.replica !== undefined ? `${app} has no running replica ${opts.replica}.` : `${app} has no running replica to open a shell in.`);
    return [...cmd];
  }

  /** A one-off run as a local process with spec.env (the image is not used). */
  async run(spec: RunSpec): Promise<RunHandle> {
    requireArgv(spec.cmd);
    return this.runs.start(spec, () => this.logStore.gone());
  }

  async removeRun(id: string): Promise<void> {
    this.runs.remove(id);
    this.logStore.gone();
  }

  private known(app: string, id: string): boolean {
    return this.replicas.some((x) => x.app === app && x.id === id) || this.runs.of(id) === app
      || this.logStore.has(app, id);
  }

  async exec(app: string, cmd: string[], _tty: boolean): Promise<ExecSession> {
    if (!this.replicas.some((x) => x.app === app && x.state === 'running')) {
      throw new DreamError('NO_RELEASE', `${app} has no running replica to run a command in.`);
    }
    const { output, exitCode } = this.execHandler(app, cmd);
    const out = new PassThrough();
    const input = new PassThrough();
    out.end(output);
    return { output: out, input, resize: async () => {}, exit: Promise.resolve(exitCode) };
  }

  remove(app: string): Promise<void> {
    return this.prune(app, null);
  }

  prune(app: string, keepReleaseId: string | null): Promise<void> {
    return this.lock.run(app, async () => {
      this.replicas = this.replicas.filter((x) => x.app !== app || x.releaseId === keepReleaseId);
      if (this.current.get(app) !== keepReleaseId) this.current.delete(app);
      this.logStore.gone();
    });
  }

  async inventory(): Promise<Inventory[]> {
    return this.replicas.map((x) => ({ app: x.app, releaseId: x.releaseId, id: x.id }));
  }

  private find(app: string, releaseId: string, replica: number): FakeReplica | undefined {
    return this.replicas.find((x) => x.app === app && x.releaseId === releaseId && x.replica === replica);
  }

  private endpoint(x: FakeReplica): Endpoint {
    return { host: x.host, port: x.port, releaseId: x.releaseId, replica: x.replica };
  }
}
