// Keeps the newest N release images of an app (for rollback) and untags the rest. Never forces:
// an image a container still uses answers 409 and is left alone.
import type Dockerode from 'dockerode';
import { LABEL } from '@dreamnet/core';

export const imageRepo = (app: string) => `dream-app/${app}`;

const status = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** Removes `dream-app/<app>:*` images beyond the newest `keep`; returns the tags removed. */
export async function pruneImages(docker: Dockerode, app: string, keep: number): Promise<string[]> {
  const repo = imageRepo(app);
  const images = await docker.listImages({ filters: { reference: [`${repo}:*`], label: [`${LABEL.app}=${app}`] } });
  // Newest first; the tag breaks ties within the engine's one-second timestamps.
  const sorted = images.sort((a, b) => b.Created - a.Created || (b.RepoTags?.[0] ?? '').localeCompare(a.RepoTags?.[0] ?? ''));
  const removed: string[] = [];
  for (const img of sorted.slice(keep)) {
    for (const tag of (img.RepoTags ?? []).filter((t) => t.startsWith(`${repo}:`))) {
      try {
        await docker.getImage(tag).remove({ force: false });
        removed.push(tag);
      } catch (e) {
        if (status(e) !== 409 && status(e) !== 404) throw e;
      }
    }
  }
  return removed;
}
