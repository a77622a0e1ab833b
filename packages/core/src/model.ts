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
}

export interface LogLine {
  at: string;
  replica: number;
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface ExecSession {
  /** Bytes from the process (stdout+stderr merged when tty). */
  output: NodeJS.ReadableStream;
  input: NodeJS.WritableStream;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves with the exit code. */
  exit: Promise<number>;
}

export interface Rollout {
  releaseId: string;
  endpoints: Endpoint[];
}
