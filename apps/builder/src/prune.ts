// Keeps the newest N release images of an app (for rollback) and untags the rest. Never forces:
// an image a container still uses answers 409 and is left alone.
import type Dockerode from 'dockerode';

export const imageRepo = (app: string) => `dream-app/${app}`;

/** RFC 3339 with the fraction padded to 9 digits, so that string order is time order. */
export function sortableTime(s: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(s);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : s;
}

const status = (e: unknown) => (e as { statusCode?: number }).statusCode;

/**
 * Removes `dream-app/<app>:*` images beyond the newest `keep` (never `protect`, the image just
 * built); returns the tags removed.
 */
export async function pruneImages(docker: Dockerode, app: string, keep: number, protect?: string): Promise<string[]> {
  const repo = imageRepo(app);
  const images = await docker.listImages({ filters: { reference: [`${repo}:*`] } });
  if (images.length <= keep) return [];
  // The list's timestamps have one-second resolution; inspect has nanoseconds.
  const created = new Map<string, string>();
  for (const img of images) {
    const info = await docker.getImage(img.Id).inspect().catch(() => null);
    created.set(img.Id, sortableTime(info?.Created ?? new Date(img.Created * 1000).toISOString()));
  }
  const newestFirst = images.sort((a, b) => created.get(b.Id)!.localeCompare(created.get(a.Id)!));
  const removed: string[] = [];
  for (const img of newestFirst.slice(keep)) {
    if (img.Id === protect) continue;
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
