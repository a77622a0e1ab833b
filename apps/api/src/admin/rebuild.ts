// After a restore on another machine the release images are usually not on its engine: each app
// whose current image is missing is rebuilt from its restored git repository at the release's commit
// (a new release with the same source and config). Apps without a recorded commit are reported.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Config } from '@dreamnet/core';
import { dockerClient } from '@dreamnet/targets/dockerode';
import type { Services } from '../services.js';

export type ImageExists = (imageId: string) => Promise<boolean>;

/** Asks the Docker engine (docker-host target); other targets have no local images to miss. */
export function engineImageExists(config: Config): ImageExists {
  if (config.target !== 'docker-host') return async () => true;
  const docker = dockerClient(config.dockerSocket);
  return (id) => docker.getImage(id).inspect().then(() => true, () => false);
}

/** `git archive` of one commit of a bare repository, as a tar stream (argv only). */
export function gitArchive(gitDir: string, sha: string): Readable {
  const p = spawn('git', ['--git-dir', gitDir, 'archive', '--format=tar', sha], { stdio: ['ignore', 'pipe', 'ignore'] });
  return p.stdout;
}

export interface RebuildPlan { rebuilding: string[]; cannotRebuild: string[] }

/** Starts rebuilds (not awaited: each is an ordinary deployment, visible in `dream deployments`). */
export async function rebuildMissing(s: Services, imageExists: ImageExists): Promise<RebuildPlan> {
  const plan: RebuildPlan = { rebuilding: [], cannotRebuild: [] };
  for (const app of s.store.apps.list()) {
    if (!app.current_release_id) continue;
    const rel = s.store.releases.get(app.name, app.current_release_id);
    if (!rel || await imageExists(rel.imageId)) continue;
    if (!rel.gitSha) { plan.cannotRebuild.push(app.name); continue; }
    plan.rebuilding.push(app.name);
    const sha = rel.gitSha;
    void s.deployer.deploySource(app.name, {
      context: () => gitArchive(s.git.dir(app.name), sha), gitSha: sha,
      description: `rebuilt after restore: the image of v${rel.version} was not on this engine`,
    }).catch((err) => s.log.error({ err, app: app.name }, 'rebuild after restore failed'));
  }
  return plan;
}
