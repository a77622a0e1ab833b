// Runs one image build on the Docker engine: the prepared source directory is streamed as a tar
// context to the classic builder under the configured memory/CPU limits, and every output line is
// handed to `onLine` as it arrives.
import type Dockerode from 'dockerode';
import * as tarfs from 'tar-fs';
import { DreamError, type Config } from '@dreamnet/core';
import { prepareContext } from './context.js';
import { imageRepo } from './prune.js';
import { BuildOutput } from './progress.js';
import type { BuildKind } from './detect.js';

export type BuildSettings = Pick<Config, 'baseImageNode' | 'baseImagePython' | 'baseImageGo' | 'baseImageGoRuntime' | 'buildMemoryMb' | 'buildCpus'>;

export interface BuildOptions {
  docker: Dockerode;
  config: BuildSettings;
  app: string;
  tag: string;
  /** The extracted source tree; generated files are written into it. */
  dir: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export interface BuildResult {
  image: string;
  imageId: string;
  kind: BuildKind;
}

const CPU_PERIOD = 100_000;

/** Query options of POST /build: limits and settings that keep the layer cache reusable. */
export function buildQuery(o: { app: string; tag: string; dockerfile: string; config: BuildSettings }): Dockerode.ImageBuildOptions {
  const memory = o.config.buildMemoryMb * 1024 * 1024;
  return {
    t: `${imageRepo(o.app)}:${o.tag}`,
    dockerfile: o.dockerfile,
    // No `labels`: the classic builder appends one LABEL step (an intermediate container, ~0.2 s)
    // per label; the `dream-app/<app>` repository already says who owns the image.
    rm: true,
    forcerm: true,
    memory,
    memswap: memory, // no swap on top of the memory limit
    cpuperiod: CPU_PERIOD,
    cpuquota: Math.round(o.config.buildCpus * CPU_PERIOD),
    version: '1',
  };
}

/** Packs the context with fixed ownership so identical sources hash identically (layer cache). */
function packContext(dir: string): NodeJS.ReadableStream {
  return tarfs.pack(dir, {
    map: (h) => ({ ...h, uid: 0, gid: 0, uname: '', gname: '' }),
  }) as unknown as NodeJS.ReadableStream; // a streamx stream; dockerode only pipes it
}

const cancelled = () => new DreamError('BUILD_FAILED', 'The build was cancelled: its client went away.');

/**
 * `signal` aborts when the client goes away (the api cancels a deleted app's deployment): the engine's
 * build stops too. Closing the engine's connection is what stops it — the daemon cancels a classic
 * build whose client left and removes the step container it ran — so the signal goes to dockerode
 * as `abortSignal`, which aborts the context upload and destroys the output stream.
 */
export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const prepared = await prepareContext(o.dir, o.config, o.app);
  o.onLine(`-----> Building ${o.app} (${prepared.plan.kind}${prepared.dockerfile === 'Dockerfile' ? ', using your Dockerfile' : ''})`);
  if (o.signal?.aborted) throw cancelled(); // not worth starting
  const image = `${imageRepo(o.app)}:${o.tag}`;
  const out = new BuildOutput(o.onLine);
  let stream: NodeJS.ReadableStream;
  try {
    const query = buildQuery({ app: o.app, tag: o.tag, dockerfile: prepared.dockerfile, config: o.config });
    stream = await o.docker.buildImage(packContext(o.dir), { ...query, abortSignal: o.signal });
  } catch (e) {
    if (o.signal?.aborted) throw cancelled();
    throw new DreamError('BUILD_FAILED', `The Docker engine refused the build: ${(e as Error).message}`);
  }
  await new Promise<void>((resolve, reject) => {
    // Also here, for an engine client that does not tie the stream to abortSignal.
    const abort = () => (stream as unknown as { destroy(e?: Error): void }).destroy(new Error('build cancelled'));
    if (o.signal?.aborted) abort();
    o.signal?.addEventListener('abort', abort, { once: true });
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => out.push(c));
    stream.on('end', () => { o.signal?.removeEventListener('abort', abort); resolve(); });
    stream.on('error', (e: Error) => {
      o.signal?.removeEventListener('abort', abort);
      reject(o.signal?.aborted ? cancelled() : new DreamError('BUILD_FAILED', `The build stream broke: ${e.message}`));
    });
  });
  // A stream that ended as the client left may have been cut short: no result from it.
  if (o.signal?.aborted) throw cancelled();
  out.end();
  if (out.error !== null) throw new DreamError('BUILD_FAILED', out.failure());
  let imageId: string;
  try {
    imageId = (await o.docker.getImage(image).inspect()).Id;
  } catch {
    throw new DreamError('BUILD_FAILED', out.failure());
  }
  return { image, imageId, kind: prepared.plan.kind };
}
