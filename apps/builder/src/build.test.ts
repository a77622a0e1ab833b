// buildImage() when its client goes away (the api cancels a deleted app's deployment): the engine's
// request is aborted — during the context upload or while the build streams — and the build fails
// as cancelled. A stand-in for dockerode that behaves like docker-modem with an `abortSignal`; the
// real engine (which stops a build whose connection closed) is covered in test/integration.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage, type BuildSettings } from './build.js';

const config: BuildSettings = {
  baseImageNode: 'node:20', baseImagePython: 'python:3', baseImageGo: 'golang:1', baseImageGoRuntime: 'debian:12', buildMemoryMb: 512, buildCpus: 1,
};

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tree(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-build-test-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:20\nRUN sleep 600\n');
  return dir;
}

/** The engine: buildImage() answers with `answer()` (or waits forever), and gives up when abortSignal aborts. */
function engine(answer?: () => PassThrough) {
  const calls: Array<{ abortSignal?: AbortSignal }> = [];
  let called!: () => void;
  const started = new Promise<void>((r) => { called = r; });
  const docker = {
    buildImage(ctx: { destroy(): void }, opts: { abortSignal?: AbortSignal }) {
      ctx.destroy(); // the context's bytes do not matter here
      calls.push(opts);
      called();
      return new Promise((resolve, reject) => {
        opts.abortSignal?.addEventListener('abort', () => reject(new Error('The operation was aborted')), { once: true });
        if (answer) resolve(answer());
      });
    },
  } as unknown as Dockerode;
  return { docker, calls, started };
}

const build = (docker: Dockerode, signal: AbortSignal, lines: string[] = []) =>
  buildImage({ docker, config, app: 'web', tag: 't1', dir: tree(), signal, onLine: (l) => lines.push(l) });

describe('buildImage when its client goes away', () => {
  it('during the context upload: the engine request gets the signal and is aborted', async () => {
    const e = engine();
    const ac = new AbortController();
    const done = build(e.docker, ac.signal);
    await e.started;
    expect(e.calls[0]!.abortSignal).toBe(ac.signal);
    ac.abort();
    await expect(done).rejects.toMatchObject({ code: 'BUILD_FAILED', message: 'The build was cancelled: its client went away.' });
  });

  it('while the build streams: the stream is destroyed and the build fails as cancelled', async () => {
    const out = new PassThrough();
    const e = engine(() => out);
    const ac = new AbortController();
    const lines: string[] = [];
    const done = build(e.docker, ac.signal, lines);
    await e.started;
    out.write(JSON.stringify({ stream: 'Step 2/2 : RUN sleep 600\n' }) + '\n');
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await expect(done).rejects.toMatchObject({ code: 'BUILD_FAILED', message: 'The build was cancelled: its client went away.' });
    expect(out.destroyed).toBe(true);
    expect(lines).toContain('Step 2/2 : RUN sleep 600');
  });

  it('already gone before the build starts: the engine is not asked at all', async () => {
    const e = engine(() => new PassThrough().end() as PassThrough);
    const ac = new AbortController();
    ac.abort();
    await expect(build(e.docker, ac.signal)).rejects.toMatchObject({ message: 'The build was cancelled: its client went away.' });
    expect(e.calls).toEqual([]);
  });
});
