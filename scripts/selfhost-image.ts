// Builds the platform image (root Dockerfile) and the registry image, on hosts that can pull the
// official bases and on hosts that cannot (air-gapped; this CI machine): there it uses the local
// dreamnet/node:20 (scripts/base-images.ts) plus this host's node headers for the build stage.
//   npx tsx scripts/selfhost-image.ts [--tag dreamnet/platform:latest] [--version V] [--registry-tag T] [--registry-only]
// and the tiny `edge` image (compose/edge) with edgeImage().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { must, run } from './lib/run.js';
import { DEBIAN_IMAGE, NODE_IMAGE, ensureBaseImages } from './base-images.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OFFICIAL_NODE = 'node:20-bookworm-slim';
const BUILD_WITH_HEADERS = 'dreamnet/node-build:20';

const have = async (image: string) => (await run('docker', ['image', 'inspect', image], { quiet: true })) === 0;
const haveOrPull = async (image: string) => (await have(image)) || (await run('docker', ['pull', '-q', image], { quiet: true })) === 0;

/** `dreamnet/node:20` + this host's node headers at /usr/local/include/node (same node version). */
async function buildImageWithHeaders(base: string): Promise<string> {
  if (await have(BUILD_WITH_HEADERS)) return BUILD_WITH_HEADERS;
  const inBase = spawnSync('docker', ['run', '--rm', base, 'node', '--version'], { encoding: 'utf8' }).stdout.trim();
  if (inBase !== process.version) throw new Error(`${base} has node ${inBase}, this host ${process.version}: headers would not match. Rebuild ${base} (scripts/base-images.ts) with this host's node.`);
  const headers = path.resolve(path.dirname(fs.realpathSync(process.execPath)), '../include/node');
  if (!fs.existsSync(path.join(headers, 'node.h'))) throw new Error(`No node headers at ${headers}; install them (the nodejs package of nodesource ships them) or use an official node base image.`);
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-node-build-'));
  fs.cpSync(headers, path.join(ctx, 'node'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY node /usr/local/include/node\n`);
  await must('docker', ['build', '-q', '-t', BUILD_WITH_HEADERS, ctx], { quiet: true });
  fs.rmSync(ctx, { recursive: true, force: true });
  return BUILD_WITH_HEADERS;
}

export interface ImageOptions { tag?: string; version?: string; quiet?: boolean }

/** Builds the platform image; returns its tag. */
export async function buildPlatformImage(o: ImageOptions = {}): Promise<string> {
  const tag = o.tag ?? 'dreamnet/platform:latest';
  let base = OFFICIAL_NODE; let buildBase = OFFICIAL_NODE;
  if (!(await haveOrPull(OFFICIAL_NODE))) {
    await ensureBaseImages();
    base = NODE_IMAGE;
    buildBase = await buildImageWithHeaders(NODE_IMAGE);
  }
  const args = ['build', '-t', tag, '--build-arg', `BASE_IMAGE=${base}`, '--build-arg', `BUILD_IMAGE=${buildBase}`,
    '--build-arg', `DREAM_VERSION=${o.version ?? 'dev'}`, root];
  if (o.quiet) args.splice(1, 0, '-q');
  await must('docker', args, { quiet: o.quiet });
  return tag;
}

/** registry:2 when it can be had, else Debian's docker-registry packaged as `tag`. */
export async function registryImage(o: { tag?: string; quiet?: boolean } = {}): Promise<string> {
  if (await haveOrPull('registry:2')) return 'registry:2';
  const tag = o.tag ?? 'dreamnet/registry:2';
  if (await have(tag)) return tag;
  await ensureBaseImages();
  await must('docker', ['build', ...(o.quiet ? ['-q'] : []), '-t', tag, '--build-arg', `BASE_IMAGE=${DEBIAN_IMAGE}`, path.join(root, 'compose/registry')], { quiet: o.quiet });
  return tag;
}

/** The `edge` port holder (compose/edge), built from `source` only when `tag` is missing: never changed by upgrades. */
export async function edgeImage(o: { tag?: string; source: string; quiet?: boolean }): Promise<string> {
  const tag = o.tag ?? 'dreamnet/edge:1';
  if (await have(tag)) return tag;
  await must('docker', ['build', ...(o.quiet ? ['-q'] : []), '-t', tag, '--build-arg', `SOURCE_IMAGE=${o.source}`, path.join(root, 'compose/edge')], { quiet: o.quiet });
  return tag;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
  try {
    if (!process.argv.includes('--registry-only')) console.log(`DREAM_IMAGE=${await buildPlatformImage({ tag: arg('--tag'), version: arg('--version') })}`);
    const registry = await registryImage({ tag: arg('--registry-tag') });
    console.log(`DREAM_REGISTRY_IMAGE=${registry}`);
  } catch (e) {
    console.error(`selfhost-image: ${(e as Error).message}`);
    process.exit(1);
  }
}
