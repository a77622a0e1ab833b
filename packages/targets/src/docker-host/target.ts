// Target on one Docker engine (the local one by default). Replicas are containers on one bridge
// network, found again by labels, so a restarted api adopts what is running (idempotent by release).
import type Dockerode from 'dockerode';
import { DreamError, requireArgv, type AppStatus, type ApplyHooks, type Endpoint, type ExecSession, type Inventory,
  type LogLine, type LogQuery, type ReleaseSpec, type Rollout, type RunHandle, type RunSpec, type Target } from '@dreamnet/core';
import { STOP_GRACE_SEC } from './spec.js';
import { replicaState } from './state.js';
import { ANY, SERVING, currentRelease, dockerError, ensureNetwork, listReplicas, removeNow, stopAndRemove } from './client.js';
import { applyRelease, type ApplyScope } from './apply.js';
import { AppLock } from '@dreamnet/core';
import { readLogs, sourceById } from './logs.js';
import { startExec } from './exec.js';
import { dockerCli, runCreateOptions, runName } from './run.js';

export interface TargetLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface DockerHostOptions {
  docker: Dockerode;
  /** Bridge network the replicas join; the proxy reaches them on it. Created (labelled managed) if missing. */
  network: string;
  /** Used when a spec has no healthCheck.timeoutMs. */
  healthTimeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL when old replicas stop. */
  stopGraceSec?: number;
  log?: TargetLog;
}

export class DockerHostTarget implements Target {
  readonly kind = 'docker-host' as const;
  private readonly docker: Dockerode;
  private readonly network: string;
  private readonly grace: number;
  private networkReady: Promise<void> | null = null;
  /** `app/release` being rolled out: not served by endpoints() until switchTraffic ran. */
  private readonly pending = new Set<string>();
  private readonly lock = new AppLock();
  /** What applyRelease uses of this target. */
  private readonly scope: ApplyScope;

  constructor(private readonly opts: DockerHostOptions) {
    this.docker = opts.docker;
    this.network = opts.network;
    this.grace = opts.stopGraceSec ?? STOP_GRACE_SEC;
    this.scope = { docker: this.docker, network: this.network, grace: this.grace, opts, pending: this.pending,
      ensureNetwork: () => this.ensureNetwork(), forgetNetwork: () => { this.networkReady = null; } };
  }

  apply(spec: ReleaseSpec, hooks: ApplyHooks = {}): Promise<Rollout> {
    // One rollout per app at a time in this process; the api also runs one job per app at a time.
    return this.lock.run(spec.app, () => applyRelease(this.scope, spec, hooks));
  }

  async endpoints(app: string): Promise<Endpoint[]> {
    const all = await listReplicas(this.docker, this.network, app);
    const releaseId = currentRelease(all, this.pending, SERVING);
    return all
      .filter((c) => c.releaseId === releaseId && c.state === 'running' && c.ip)
      .sort((a, b) => a.replica - b.replica)
      .map((c) => ({ host: c.ip!, port: c.port, releaseId: c.releaseId, replica: c.replica }));
  }

  async status(app: string): Promise<AppStatus> {
    const all = await listReplicas(this.docker, this.network, app);
    const releaseId = currentRelease(all, this.pending, SERVING) ?? currentRelease(all, this.pending, ANY);
    const replicas = await Promise.all(all.map(async (c) => {
      const info = await this.docker.getContainer(c.id).inspect().catch(() => null);
      const state = info ? replicaState(info.State, info.RestartCount) : 'exited';
      // Restarting replicas report Running=true in Docker; their last exit code is what matters.
      const exitCode = info && (state !== 'running' && state !== 'starting') ? info.State.ExitCode : undefined;
      return { id: c.id, releaseId: c.releaseId, replica: c.replica, state, restartCount: info?.RestartCount ?? 0,
        ...(exitCode !== undefined ? { exitCode } : {}) };
    }));
    replicas.sort((a, b) => a.replica - b.replica);
    return {
      app,
      releaseId,
      replicas,
      healthy: replicas.filter((r) => r.releaseId === releaseId && r.state === 'running').length,
      crashLooping: replicas.some((r) => r.state === 'crash-loop'),
    };
  }

  async *logs(app: string, opts: LogQuery): AsyncIterable<LogLine> {
    if (opts.replicaId !== undefined) {
      yield* readLogs(this.docker, [await sourceById(this.docker, this.network, app, opts.replicaId)], opts);
      return;
    }
    const all = await listReplicas(this.docker, this.network, app);
    // Stopped replicas of the current release too: a crash's last words are what people look for.
    const releaseId = currentRelease(all, this.pending, SERVING) ?? currentRelease(all, this.pending, ANY);
    const sources = all.filter((c) => c.releaseId === releaseId).sort((a, b) => a.replica - b.replica);
    yield* readLogs(this.docker, sources, opts);
  }

  async exec(app: string, cmd: string[], tty: boolean): Promise<ExecSession> {
    requireArgv(cmd);
    const eps = await this.endpoints(app);
    const all = await listReplicas(this.docker, this.network, app);
    const pick = all.find((c) => c.releaseId === eps[0]?.releaseId && c.replica === eps[0]?.replica)
      ?? all.find((c) => c.state === 'running');
    if (!pick) throw new DreamError('NO_RELEASE', `${app} has no running replica to run a command in.`);
    try {
      return await startExec(this.docker.getContainer(pick.id), cmd, tty);
    } catch (e) {
      throw dockerError(e, `run a command in ${app}`);
    }
  }

  async attachArgv(app: string, cmd: string[], opts: { replica?: number } = {}): Promise<string[]> {
    requireArgv(cmd);
    const all = await listReplicas(this.docker, this.network, app);
    const releaseId = currentRelease(all, this.pending, SERVING);
    const running = all.filter((c) => c.state === 'running').sort((a, b) => a.replica - b.replica);
    const pick = opts.replica !== undefined
      ? running.find((c) => c.releaseId === releaseId && c.replica === opts.replica)
      : running.find((c) => c.releaseId === releaseId) ?? running[0];
    if (!pick) {
      throw new DreamError('NO_RELEASE', opts.replica !== undefined ? `${app} has no running replica ${opts.replica}.` : `${app} has no running replica to open a shell in.`);
    }
    return dockerCli(this.docker, 'exec', '-it', '-e', 'TERM=xterm-256color', pick.id, ...cmd);
  }

  async run(spec: RunSpec): Promise<RunHandle> {
    requireArgv(spec.cmd);
    await this.ensureNetwork();
    const name = runName(spec.app);
    try {
      const c = await this.docker.createContainer(runCreateOptions(spec, name, this.network));
      if (spec.detach) await c.start();
      return { id: c.id, attach: dockerCli(this.docker, 'start', '--attach', '--interactive', c.id) };
    } catch (e) {
      throw dockerError(e, `start a one-off container of ${spec.app} from ${spec.image}`);
    }
  }

  async removeRun(id: string): Promise<void> {
    await removeNow(this.docker, id).catch(() => {});
  }

  /** After any rollout of the app in progress here: the list then holds what that rollout started. */
  remove(app: string): Promise<void> {
    return this.prune(app, null);
  }

  prune(app: string, keepReleaseId: string | null): Promise<void> {
    return this.lock.run(app, async () => {
      const all = await listReplicas(this.docker, this.network, app);
      await Promise.all(all.filter((c) => c.releaseId !== keepReleaseId).map((c) => stopAndRemove(this.docker, c.id, this.grace)));
    });
  }

  async inventory(): Promise<Inventory[]> {
    return (await listReplicas(this.docker, this.network)).map((c) => ({ app: c.app, releaseId: c.releaseId, id: c.id }));
  }

  private ensureNetwork(): Promise<void> {
    this.networkReady ??= ensureNetwork(this.docker, this.network).catch((e) => { this.networkReady = null; throw e; });
    return this.networkReady;
  }
}
