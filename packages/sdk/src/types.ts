// Shapes of the API's answers (the api has no response schemas; these follow apps/api/src/http and
// db types, and the SDK's e2e test reads them from the real api).
export type Scope = 'read' | 'deploy' | 'admin';
export type DeploymentState = 'queued' | 'building' | 'deploying' | 'healthy' | 'failed' | 'superseded' | 'rolled_back';
export const TERMINAL: readonly DeploymentState[] = ['healthy', 'failed', 'superseded', 'rolled_back'];

export interface Page<T> { items: T[]; nextCursor: string | null }
export interface Whoami { name: string; scope: Scope; apps: string[] | null }
export interface ReleaseSummary { id: string; version: number; image: string; description: string; createdAt: string }
export interface App {
  name: string; deployBranch: string; replicas: number; healthCheckPath: string | null; url: string; gitUrl: string; createdAt: string;
  /** Bytes (0: no limit); null: the proxy's own DREAM_PROXY_MAX_REQUEST_BODY. */
  maxRequestBody: number | null;
  /** null: the proxy's own DREAM_PROXY_REQUEST_BUFFERING. */
  requestBuffering: boolean | null;
  currentRelease: ReleaseSummary | null;
  status?: { healthy: number; replicas: number; crashLooping: boolean };
}
/** PATCH /v1/apps/:app: only the fields given change; null (or "" for the path) goes back to the default. */
export interface AppChange { deployBranch?: string; healthCheckPath?: string | null; maxRequestBody?: number | null; requestBuffering?: boolean | null }
/** `fingerprint` only for deploy/admin tokens: a read token could test guesses of a weak value with it. */
export interface ConfigItem { key: string; fingerprint?: string; updatedAt: string }
export interface Release { id: string; app: string; version: number; image: string; imageId: string; kind: string | null; gitSha: string | null; description: string; configKeys: string[]; createdAt: string }
export interface Deployment {
  id: string; app: string; releaseId: string | null; version: number | null; state: DeploymentState; reason: string | null;
  createdAt: string; updatedAt: string;
  events?: { state: DeploymentState; reason: string | null; at: string }[];
  buildLog?: string;
}
export interface Token { id: string; name: string; scope: Scope; apps: string[] | null; createdAt: string; lastUsedAt: string | null }
export interface CreatedToken extends Token { token: string }
/** A name an app is served at (the domains api owns the exact certificate fields). */
export interface Domain { host: string; [field: string]: unknown }
export interface Hooks {
  webhook: { enabled: boolean; repoUrl: string | null; endpoints: Record<'github' | 'gitlab' | 'gitea', string> };
  notifications: { enabled: boolean; url: string | null };
}
export interface ApiErrorBody { statusCode: number; code: string; error: string; message: string; requestId?: string }
