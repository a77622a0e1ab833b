// A repository's Dockerfile cannot build from another image on the engine by a short id prefix
// (`FROM 3fa9c`), which the classic builder resolves against every local image — e.g. another app's.
// Real engine, real builder: the stand-in "other app" image is imported from a one-file tar.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { loadConfig, type DreamError } from '@dreamnet/core';
import { requestBuild, startBuilder, type RunningBuilder } from '@dreamnet/builder';
import { PREFIX, cleanup, docker } from './builder-helpers.js';

const TOKEN = 'builder-it-refs-token-0123456789';
const OTHER = `${PREFIX}-other-app:secret`;
let tmp: string;
let builder: RunningBuilder;
let otherId: string;

function tarOf(files: Record<string, string>): Readable {
  const p = tar.pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name }, body);
  p.finalize();
  return p as unknown as Readable;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-refs-`));
  const stream = await docker.importImage(tarOf({ 'app/secret.txt': 'other tenant data\n' }) as unknown as NodeJS.ReadableStream, { repo: `${PREFIX}-other-app`, tag: 'secret' });
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve(null))));
  otherId = (await docker.getImage(OTHER).inspect()).Id.replace(/^sha256:/, '');
  const config = loadConfig({ DREAM_DATA_DIR: path.join(tmp, 'data'), DREAM_BUILDER_PORT: '0', DREAM_LOG_LEVEL: 'silent' });
  builder = await startBuilder({ config, token: TOKEN });
}, 60_000);

afterAll(async () => {
  await builder?.close();
  await cleanup();
  await docker.getImage(OTHER).remove({ force: true }).catch(() => {});
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function build(dockerfile: string) {
  const lines: string[] = [];
  try {
    const r = await requestBuild({ url: builder.url, token: TOKEN, app: `${PREFIX}-thief`, tag: 'r1', context: tarOf({ Dockerfile: dockerfile }), onLine: (l) => lines.push(l) });
    return { built: r.imageId, lines };
  } catch (e) {
    return { error: e as DreamError, lines };
  }
}

describe('a Dockerfile cannot reach other images on the engine', () => {
  it.each([
    ['FROM an id prefix', (id: string) => `FROM ${id.slice(0, 6)}\nENV X=1\n`],
    ['COPY --from an id prefix', (id: string) => `FROM scratch\nCOPY --from=${id.slice(0, 6)} /app/secret.txt /stolen.txt\n`],
    ['FROM a variable that spells the id', (id: string) => `ARG I=${id.slice(0, 6)}\nFROM $I\n`],
  ])('%s is refused before anything is built', async (_, dockerfile) => {
    const r = await build(dockerfile(otherId));
    expect(r.built).toBeUndefined();
    expect(r.error?.code).toBe('BUILD_FAILED');
    expect(r.error?.message).toMatch(/Your Dockerfile was refused/);
    expect(r.lines.join('\n')).not.toMatch(/Step 1/);
  }, 60_000);
});
