// The platform's model (DESIGN.md §2): apps, immutable releases, deployments and their states.

export type DeploymentState = 'queued' | 'building' | 'deploying' | 'healthy' | 'failed' | 'superseded' | 'rolled_back';
export const TERMINAL_STATES: DeploymentState[] = ['healthy', 'failed', 'superseded', 'rolled_back'];

export interface HealthCheck {
  /** HTTP path probed on the replica; null = "the port accepts and GET / answers < 500". */
  path: string | null;
  timeoutMs: number;
}

export interface Limits {
  memoryMb: number;
  cpus: number;
}

/** Everything a target needs to run one release of one app. Pure data. */
export interface ReleaseSpec {
  app: string;
  releaseId: string;
  version: number;
  image: string;
  env: Record<string, string>;
  replicas: number;
  port: number;
  command?: string[];
  healthCheck: HealthCheck;
  limits: Limits;
}

export interface Endpoint {
  host: string;
  port: number;
  releaseId: string;
  replica: number;
}

export interface ReplicaStatus {
  id: string;
  releaseId: string;
  replica: number;
  state: 'running' | 'starting' | 'exited' | 'restarting' | 'crash-loop';
  restartCount: number;
  exitCode?: number;
}

export interface AppStatus {
  app: string;
  releaseId: string | null;
  replicas: ReplicaStatus[];
  healthy: number;
  crashLooping: boolean;
}

export interface LogQuery {
  follow?: boolean;
  tail?: number;
  since?: Date;
  /** Only this replica (an `Inventory` id), whatever its release; it may have stopped. */
  replicaId?: string;
  /** Lines at or after this RFC 3339 time, nanosecond precision (resume after a restart). */
  sinceAt?: string;
}

export interface LogLine {
  at: string;
  replica: number;
  stream: 'stdout' | 'stderr';
  line: string;
  /** The replica (`Inventory` id) that printed it, when the target knows. */
  id?: string;
}

export interface ExecSession {
  /** Bytes from the process (stdout+stderr merged when tty). */
  output: NodeJS.ReadableStream;
  input: NodeJS.WritableStream;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code. */
  exit: Promise<number>;
}

/** A one-off container (`dream run`): the app's release image and config, a command, no traffic. */
export interface RunSpec {
  app: string;
  image: string;
  env: Record<string, string>;
  /** argv, never a shell string. */
  cmd: string[];
  limits: Limits;
  /** Started at once and left running (its output is read with logs); else created for `attach`. */
  detach: boolean;
}

export interface RunHandle {
  /** Names the run to logs({ replicaId }) and removeRun(). */
  id: string;
  /** argv of a local program that starts the run attached to the terminal it runs in (node-pty). */
  attach: string[];
}

export interface Rollout {
  releaseId: string;
  endpoints: Endpoint[];
}
