// The Target contract (docs/target-contract.md). Every place an app can run implements it; the
// services resolve a Target once per app and never branch on where it runs.
import { DreamError } from './errors.js';
import type { AppStatus, Endpoint, ExecSession, LogLine, LogQuery, ReleaseSpec, Rollout, RunHandle, RunSpec } from './model.js';

export type TargetKind = 'docker-host' | 'kubernetes' | 'spot-vm' | 'fake';

export interface ApplyHooks {
  /** Progress lines for the pusher ("starting replica 1/2", "replica 1 healthy"). */
  onProgress?(line: string): void;
  /**
   * Called once the new replicas are healthy and before any old replica stops: the caller switches
   * traffic to `endpoints` and resolves when the old endpoints are drained.
   */
  switchTraffic?(endpoints: Endpoint[]): Promise<void>;
  /**
   * Aborted when the rollout must not go on (the app is being deleted). Before traffic switched,
   * apply removes the replicas it started and throws `signal.reason`; once switched, it finishes.
   */
  signal?: AbortSignal;
}

export interface Inventory {
  app: string;
  releaseId: string;
  id: string;
}

export interface Target {
  readonly kind: TargetKind;
  /**
   * Idempotent: make `spec` the running release. Starts missing replicas of this release, waits until
   * they are healthy (throws DreamError HEALTH_CHECK_FAILED and removes them if not — old replicas are
   * untouched), calls hooks.switchTraffic, then stops replicas of every other release of the app.
   */
  apply(spec: ReleaseSpec, hooks?: ApplyHooks): Promise<Rollout>;
  status(app: string): Promise<AppStatus>;
  endpoints(app: string): Promise<Endpoint[]>;
  logs(app: string, opts: LogQuery): AsyncIterable<LogLine>;
  exec(app: string, cmd: string[], tty: boolean): Promise<ExecSession>;
  /** Removes every replica of the app (all releases). Idempotent. */
  remove(app: string): Promise<void>;
  /** Removes replicas of `app` whose release is not `keepReleaseId`. Idempotent. */
  prune(app: string, keepReleaseId: string | null): Promise<void>;
  /** Everything this target runs for the platform, for the reconciler to adopt or remove. */
  inventory(): Promise<Inventory[]>;
  /**
   * argv of a local program that runs `cmd` in a running replica (`replica`, else the first one)
   * with a terminal: the api runs it in a pseudo-terminal (node-pty) for `dream shell`.
   */
  attachArgv?(app: string, cmd: string[], opts?: { replica?: number }): Promise<string[]>;
  /** A one-off container from a release image (`dream run`). */
  run?(spec: RunSpec): Promise<RunHandle>;
  /** Removes a one-off container (stopping it first). Idempotent. */
  removeRun?(id: string): Promise<void>;
}

/** Every target checks a command the same way: an argv array, never a shell string (DESIGN §6). */
export function requireArgv(cmd: readonly string[]): void {
  if (!Array.isArray(cmd) || cmd.length === 0) throw new DreamError('VALIDATION_FAILED', 'A command is an argv array with at least one element.');
}
