// Prepares an extracted source tree for `docker build`: detects the kind and, for every kind but
// `dockerfile`, writes the generated Dockerfile (and the static server) under .dreamnet/.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DreamError } from '@dreamnet/core';
import { DETECT_FILES, detect, type BuildPlan, type SourceInfo } from './detect.js';
import { HINT_FILE } from './hint.js';
import { checkImageRefs } from './image-refs.js';
import { DEFAULT_DOCKERIGNORE, GENERATED_DIR, GENERATED_DOCKERFILE, STATIC_SERVER_FILE, generateDockerfile, type BaseImages } from './dockerfile.js';

export const STATIC_SERVER_SOURCE = fileURLToPath(new URL('../assets/static-server.mjs', import.meta.url));
const MAX_DETECT_FILE = 1 << 20;

export interface PreparedContext {
  plan: BuildPlan;
  /** Dockerfile path relative to the context root. */
  dockerfile: string;
}

async function readSmall(file: string, name: string): Promise<string> {
  const st = await fsp.stat(file);
  if (!st.isFile()) throw new DreamError('BUILD_FAILED', `${name} is not a regular file.`);
  if (st.size > MAX_DETECT_FILE) throw new DreamError('BUILD_FAILED', `${name} is larger than ${MAX_DETECT_FILE} bytes.`);
  return fsp.readFile(file, 'utf8');
}

/** Reads what detection needs from the root of `dir`. */
export async function readSource(dir: string): Promise<SourceInfo> {
  const files = await fsp.readdir(dir);
  const contents: SourceInfo['contents'] = {};
  for (const name of DETECT_FILES) {
    if (files.includes(name)) contents[name] = await readSmall(path.join(dir, name), name);
  }
  // The build hint is the one file read below the root; a link or directory there is not a hint.
  const hint = path.join(dir, HINT_FILE);
  if ((await fsp.lstat(hint).catch(() => null))?.isFile()) return { files, contents, hint: await readSmall(hint, HINT_FILE) };
  return { files, contents };
}

export async function prepareContext(dir: string, images: BaseImages, app: string): Promise<PreparedContext> {
  const plan = detect(await readSource(dir));
  const text = generateDockerfile(plan, images);
  if (text === null) {
    // The repository's own Dockerfile: it may not build from (or copy out of) other apps' images.
    checkImageRefs(await readSmall(path.join(dir, 'Dockerfile'), 'Dockerfile'), app);
    return { plan, dockerfile: 'Dockerfile' };
  }
  // Whatever the upload had at .dreamnet (even a link) is replaced; rm never follows links.
  await fsp.rm(path.join(dir, GENERATED_DIR), { recursive: true, force: true });
  await fsp.mkdir(path.join(dir, GENERATED_DIR), { mode: 0o755 });
  await fsp.writeFile(path.join(dir, GENERATED_DOCKERFILE), text, { flag: 'wx', mode: 0o644 });
  if (plan.kind === 'static' || plan.kind === 'static-build') await fsp.copyFile(STATIC_SERVER_SOURCE, path.join(dir, STATIC_SERVER_FILE));
  const ignore = path.join(dir, '.dockerignore');
  const existing = await fsp.lstat(ignore).catch(() => null);
  if (!existing) await fsp.writeFile(ignore, DEFAULT_DOCKERIGNORE, { flag: 'wx', mode: 0o644 });
  // Links were checked at extraction to stay inside the tree; keep .dreamnet from being ignored.
  else if (existing.isFile()) await fsp.appendFile(ignore, `\n!${GENERATED_DIR}\n!${GENERATED_DIR}/**\n`);
  return { plan, dockerfile: GENERATED_DOCKERFILE };
}
