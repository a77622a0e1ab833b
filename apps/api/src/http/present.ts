// What the API shows of an app: never config values, only names and fingerprints.
import { appUrl, type AppStatus } from '@dreamnet/core';
import type { AppRow } from '../db/index.js';
import type { Services } from '../services.js';

export function presentApp(s: Services, row: AppRow, status?: AppStatus) {
  const current = row.current_release_id ? s.store.releases.get(row.name, row.current_release_id) : null;
  return {
    name: row.name,
    deployBranch: row.deploy_branch,
    replicas: row.replicas,
    healthCheckPath: row.health_path,
    maxRequestBody: row.max_request_body,
    requestBuffering: row.request_buffering === null ? null : row.request_buffering === 1,
    url: appUrl(s.config, row.name),
    gitUrl: `${s.config.publicApiUrl}/git/${row.name}.git`,
    createdAt: row.created_at,
    currentRelease: current && { id: current.id, version: current.version, image: current.image, description: current.description, createdAt: current.createdAt },
    status: status && { healthy: status.healthy, replicas: status.replicas.length, crashLooping: status.crashLooping },
  };
}
