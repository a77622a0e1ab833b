// The shapes of the public REST API as the CLI reads them (see apps/api).

export interface Whoami { name: string; scope: string; apps?: string[] | null }

export interface ReleaseSummary { version: number; id: string; image: string; createdAt: string; description: string }

export interface App {
  name: string;
  deployBranch: string;
  replicas: number;
  /** Null: GET / must answer below 500. */
  healthCheckPath: string | null;
  /** Bytes (0: no limit); null: the proxy's own default. */
  maxRequestBody: number | null;
  /** Null: the proxy's own default. */
  requestBuffering: boolean | null;
  url: string;
  gitUrl: string;
  createdAt: string;
  currentRelease: ReleaseSummary | null;
  /** Absent when the api has not looked at the target yet (or could not reach it). */
  status?: { healthy: boolean; replicas: number; crashLooping: boolean } | null;
}

/** `fingerprint` only for deploy/admin tokens. */
export interface ConfigItem { key: string; fingerprint?: string; updatedAt: string }

export interface Release { id: string; version: number; image: string; description: string; createdAt: string; configKeys: string[] }

export interface DeploymentEvent { state: string; reason: string | null; at: string }

export interface Deployment {
  id: string;
  app: string;
  /** Null for a deployment whose build failed before a release existed. */
  releaseId: string | null;
  version: number | null;
  state: string;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  /** Only on GET …/deployments/:id. */
  events?: DeploymentEvent[];
  buildLog?: string;
}

/** PATCH /v1/apps/:app: only the fields given change; null goes back to the default. */
export interface AppChange { deployBranch?: string; healthCheckPath?: string | null; maxRequestBody?: number | null; requestBuffering?: boolean | null }

export interface ConfigChange { items: ConfigItem[]; release?: Release; deployment?: Deployment }

/** POST …/scale: without a release there is nothing to redeploy, so no deployment. */
export interface ScaleResult { app: string; replicas: number; deployment?: Deployment }

/** "v3", or "-" for a deployment that never got a release. */
export function versionText(v: number | null | undefined): string {
  return v == null ? '-' : `v${v}`;
}

export interface List<T> { items: T[] }

export interface DomainCert { state: 'pending' | 'issued' | 'renewing' | 'failing'; issuer: string | null; notAfter: string | null; error: string | null; nextAttemptAt: string | null; reportedAt: string }
export interface Domain { host: string; kind: 'automatic' | 'custom'; certificate: DomainCert | null; /** Set when POST …/domains with move: true took it from that app. */ movedFrom?: string }
export interface RootCa { pem: string; fingerprint256: string }
