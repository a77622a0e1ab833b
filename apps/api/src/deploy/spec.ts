// Pure: an app row + release + config snapshot → the ReleaseSpec a target runs, and the hosts the
// proxy serves the app at.
import type { Config, ReleaseSpec } from '@dreamnet/core';
import type { AppRow, Release } from '../db/index.js';

export const APP_PORT = 5000;

export function releaseSpec(config: Config, app: AppRow, release: Release, env: Record<string, string>): ReleaseSpec {
  return {
    app: app.name,
    releaseId: release.id,
    version: release.version,
    image: release.imageId,
    env,
    replicas: app.replicas,
    port: APP_PORT,
    healthCheck: { path: app.health_path, timeoutMs: config.healthTimeoutMs },
    limits: { memoryMb: config.appMemoryMb, cpus: config.appCpus },
  };
}

export function appHosts(config: Pick<Config, 'domain'>, app: string): string[] {
  const hosts = [`${app}.dream`];
  if (config.domain) hosts.push(`${app}.${config.domain}`);
  return hosts;
}
