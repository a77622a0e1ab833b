// In-memory Target for API tests: same semantics as docker-host (idempotent apply keyed by release,
// switchTraffic before old replicas stop, prune, remove) with no Docker. Deterministic ids (fake-1,
// fake-2, …) and controllable failures.
import { PassThrough } from 'node:stream';
import { EventEmitter } from 'node:events';
import { DreamError, type AppStatus, type ApplyHooks, type Endpoint, type ExecSession, type Inventory, type LogLine,
  type LogQuery, type ReleaseSpec, type Rollout, type Target } from '@dreamnet/core';

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
  private lines: Array<LogLine & { app: string }> = [];
  private events = new EventEmitter();
  private nextId = 1;
  private execHandler: FakeExecHandler = (_app, cmd) =>
    cmd[0] === 'echo' ? { output: `${cmd.slice(1).join(' ')}\n`, exitCode: 0 } : { output: '', exitCode: 0 };
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
    const l = { app, at: new Date().toISOString(), replica, stream, line, ...(rep ? { id: rep.id } : {}) };
    this.lines.push(l);
    this.events.emit('line', l);
  }

  async apply(spec: ReleaseSpec, hooks: ApplyHooks = {}): Promise<Rollout> {
    await Promise.resolve();
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
      await hooks.switchTraffic?.(endpoints);
    } catch (e) {
      this.replicas = this.replicas.filter((x) => !created.includes(x));
      throw e;
    }
    this.switches.push({ app: spec.app, endpoints });
    this.current.set(spec.app, spec.releaseId);
    // Old releases and surplus replicas of this release stop only after traffic moved.
    this.replicas = this.replicas.filter((x) => x.app !== spec.app || (x.releaseId === spec.releaseId && x.replica <= spec.replicas));
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
    const since = opts.since?.getTime() ?? 0;
    const mine = (l: LogLine & { app: string }) => l.app === app && (opts.replicaId === undefined || l.id === opts.replicaId)
      && (opts.sinceAt === undefined || l.at >= opts.sinceAt);
    let past = this.lines.filter((l) => mine(l) && Date.parse(l.at) >= since);
    if (opts.tail !== undefined) past = past.slice(Math.max(0, past.length - opts.tail));
    for (const { app: _a, ...l } of past) yield l;
    if (!opts.follow) return;
    const queue: LogLine[] = [];
    let wake: (() => void) | null = null;
    const onLine = (l: LogLine & { app: string }) => {
      if (!mine(l)) return;
      const { app: _a, ...rest } = l;
      queue.push(rest);
      wake?.();
    };
    this.events.on('line', onLine);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = null;
      }
    } finally {
      this.events.off('line', onLine);
    }
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

  async remove(app: string): Promise<void> {
    this.replicas = this.replicas.filter((x) => x.app !== app);
    this.current.delete(app);
  }

  async prune(app: string, keepReleaseId: string | null): Promise<void> {
    this.replicas = this.replicas.filter((x) => x.app !== app || x.releaseId === keepReleaseId);
    if (this.current.get(app) !== keepReleaseId) this.current.delete(app);
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
