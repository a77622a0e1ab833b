// The shapes of the public REST API as the CLI reads them (see apps/api).

export interface Whoami { name: string; scope: string }

export interface ReleaseSummary { version: number; id: string; image: string; createdAt: string; description: string }

export interface App {
  name: string;
  deployBranch: string;
  replicas: number;
  url: string;
  gitUrl: string;
  createdAt: string;
  currentRelease: ReleaseSummary | null;
  status: { healthy: boolean; replicas: number; crashLooping: boolean };
}

export interface ConfigItem { key: string; fingerprint: string; updatedAt: string }

export interface Release { id: string; version: number; image: string; description: string; createdAt: string; configKeys: string[] }

export interface DeploymentEvent { state: string; reason: string | null; at: string }

export interface Deployment {
  id: string;
  app: string;
  releaseId: string;
  version: number;
  state: string;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  events: DeploymentEvent[];
  buildLog?: string;
}

export interface ConfigChange { items: ConfigItem[]; release?: Release; deployment?: Deployment }

export interface List<T> { items: T[] }
