// The builder against the real Docker engine: tars of fixture apps in, runnable images out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DreamError } from '@dreamnet/core';
import { requestBuild, startBuilder, type RunningBuilder } from '@dreamnet/builder';
import { PREFIX, cleanup, docker, getWhenUp, nodeServer, packDir, runImage, writeTree } from './builder-helpers.js';

const TOKEN = 'builder-it-token-0123456789';
let tmp: string;
let builder: RunningBuilder;

beforeAll(async () => {
  await docker.getImage('dreamnet/node:20').inspect(); // made by scripts/base-images.ts
  await cleanup();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
  const config = loadConfig({
    DREAM_DATA_DIR: path.join(tmp, 'data'), DREAM_BUILDER_PORT: '0', DREAM_LOG_LEVEL: 'silent',
    DREAM_BASE_IMAGE_NODE: 'dreamnet/node:20', DREAM_KEEP_IMAGES: '2', DREAM_BUILD_MEMORY_MB: '1024', DREAM_BUILD_CPUS: '2',
  });
  builder = await startBuilder({ config, token: TOKEN });
});

afterAll(async () => {
  await builder?.close();
  await cleanup();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function build(app: string, tag: string, files: Record<string, string>) {
  const dir = writeTree(fs.mkdtempSync(path.join(tmp, `${app}-`)), files);
  const lines: string[] = [];
  const started = Date.now();
  try {
    const result = await requestBuild({ url: builder.url, token: TOKEN, app, tag, context: packDir(dir), onLine: (l) => lines.push(l) });
    return { result, lines, ms: Date.now() - started };
  } catch (e) {
    return { error: e as DreamError, lines, ms: Date.now() - started };
  }
}

async function serve(image: string, urlPath = '/') {
  const run = await runImage(image, `${PREFIX}-${Math.random().toString(36).slice(2, 8)}`);
  try { return await getWhenUp(run.url + urlPath); } finally { await run.stop(); }
}

const NODE_APP = {
  'package.json': JSON.stringify({ name: 'hello', version: '1.0.0', scripts: { start: 'node server.js' } }),
  'package-lock.json': JSON.stringify({ name: 'hello', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'hello', version: '1.0.0' } } }),
  'server.js': nodeServer('hello from node'),
};

describe('builder with the Docker engine', () => {
  it('builds a Node app with npm ci, tags it in the app repository, and the image serves on $PORT as a non-root user', async () => {
    const app = `${PREFIX}-node`;
    const first = await build(app, 't1', NODE_APP);
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({ image: `dream-app/${app}:t1`, kind: 'node', imageId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(first.lines).toContain(`-----> Building ${app} (node)`);
    expect(first.lines.some((l) => /Step \d+\/\d+ : RUN npm ci --no-audit --no-fund --omit=dev/.test(l))).toBe(true);
    const info = await docker.getImage(`dream-app/${app}:t1`).inspect();
    expect(info.Id).toBe(first.result!.imageId);
    expect(info.RepoTags).toContain(`dream-app/${app}:${'t1'}`);
    expect(await serve(first.result!.image)).toEqual({ status: 200, body: 'hello from node uid=10001 env=production' });

    // Unchanged source: every step comes from the layer cache.
    const second = await build(app, 't2', NODE_APP);
    expect(second.result?.imageId).toBe(first.result!.imageId);
    const cached = second.lines.filter((l) => l.includes('Using cache')).length;
    const steps = second.lines.filter((l) => /^Step \d+\/\d+ : /.test(l) && !/ : FROM /.test(l)).length;
    expect(cached).toBe(steps);
    console.log(`node build: first ${first.ms} ms, unchanged rebuild ${second.ms} ms`);
  });

  it('builds a static site served by the shipped server, without exposing dot-files', async () => {
    const app = `${PREFIX}-static`;
    const { result, error } = await build(app, 's1', { 'index.html': '<h1>static ok</h1>', 'about/index.html': 'about page', '.env': 'SECRET=1' });
    expect(error).toBeUndefined();
    expect(result!.kind).toBe('static');
    const run = await runImage(result!.image, `${PREFIX}-static-run`);
    try {
      expect(await getWhenUp(run.url + '/')).toEqual({ status: 200, body: '<h1>static ok</h1>' });
      expect(await getWhenUp(run.url + '/about/')).toEqual({ status: 200, body: 'about page' });
      expect((await getWhenUp(run.url + '/.env')).status).toBe(404);
      expect((await getWhenUp(run.url + '/.dreamnet/Dockerfile')).status).toBe(404);
      expect((await getWhenUp(run.url + '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    } finally { await run.stop(); }
  });

  it('uses a Dockerfile at the root as is', async () => {
    const app = `${PREFIX}-docker`;
    const { result, error, lines } = await build(app, 'd1', {
      Dockerfile: [
        'FROM dreamnet/node:20',
        // Shows the limits the build runs under (cgroup v2 or v1 paths).
        'RUN echo "mem=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" && echo "cpu=$(cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)"',
        'WORKDIR /srv', 'COPY server.js .', 'ENV PORT=5000', 'CMD ["node", "server.js"]', '',
      ].join('\n'),
      'server.js': nodeServer('dockerfile ok'),
      'package.json': '{"not": "used"}',
    });
    expect(error).toBeUndefined();
    expect(result!.kind).toBe('dockerfile');
    expect(lines).toContain(`-----> Building ${app} (dockerfile, using your Dockerfile)`);
    // DREAM_BUILD_MEMORY_MB=1024, DREAM_BUILD_CPUS=2
    expect(lines).toContain('mem=1073741824');
    expect(lines.some((l) => l === 'cpu=200000' || l === 'cpu=200000 100000')).toBe(true);
    expect((await serve(result!.image)).body).toBe('dockerfile ok uid=0 env=undefined');
  });

  it('a failing step → BUILD_FAILED naming the step and its error; no image', async () => {
    const app = `${PREFIX}-broken`;
    const { result, error, lines } = await build(app, 'b1', { Dockerfile: 'FROM dreamnet/node:20\nRUN echo about to fail && exit 3\n' });
    expect(result).toBeUndefined();
    expect(error!.code).toBe('BUILD_FAILED');
    expect(error!.message).toMatch(/^Step 2\/\d+ : RUN echo about to fail && exit 3 failed: The command '\/bin\/sh -c echo about to fail && exit 3' returned a non-zero code: 3$/);
    expect(lines).toContain('about to fail');
    await expect(docker.getImage(`dream-app/${app}:b1`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a client that goes away cancels its build (the step container is removed)', async () => {
    const dir = writeTree(fs.mkdtempSync(path.join(tmp, 'cancel-')), { Dockerfile: 'FROM dreamnet/node:20\nRUN echo started-${Date.now()} && sleep 60\n' });
    const ac = new AbortController();
    let stepContainer = '';
    const done = requestBuild({
      url: builder.url, token: TOKEN, app: `${PREFIX}-cancel`, tag: 'c1', context: packDir(dir), signal: ac.signal,
      onLine: (l) => { const m = /^ ---> Running in ([0-9a-f]{12})/.exec(l); if (m) stepContainer = m[1]!; if (l.startsWith('started-')) ac.abort(); },
    });
    await expect(done).rejects.toThrow();
    expect(stepContainer).not.toBe('');
    const until = Date.now() + 20_000;
    while (Date.now() < until && (await docker.listContainers({ all: true, filters: { id: [stepContainer] } })).length > 0) await new Promise((r) => setTimeout(r, 250));
    expect(await docker.listContainers({ all: true, filters: { id: [stepContainer] } })).toEqual([]);
  });

  it('builds of one app queue; the second says it is waiting', async () => {
    const app = `${PREFIX}-queue`;
    const files = (n: number) => ({ Dockerfile: `FROM dreamnet/node:20\nRUN echo build-${n}-${Date.now()} && sleep 1\n` });
    const [a, b] = await Promise.all([build(app, 'q1', files(1)), new Promise((r) => setTimeout(r, 300)).then(() => build(app, 'q2', files(2)))]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    expect(b.lines[0]).toBe(`-----> Waiting for the running build of ${app} to finish`);
  });

  it('an unrecognised tree → an NDJSON error line saying what to add', async () => {
    const dir = writeTree(fs.mkdtempSync(path.join(tmp, 'unknown-')), { 'README.md': 'hi' });
    const res = await fetch(`${builder.url}/v1/builds?app=${PREFIX}-unknown&tag=u1`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-tar' },
      body: fs.readFileSync(await tarFile(dir)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const last = JSON.parse((await res.text()).trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'error', code: 'BUILD_FAILED', message: expect.stringContaining('Add a Dockerfile') });
  });

  it('keeps only the newest DREAM_KEEP_IMAGES images of an app', async () => {
    const app = `${PREFIX}-prune`;
    for (const tag of ['p1', 'p2', 'p3']) {
      const { error, lines } = await build(app, tag, { 'index.html': `version ${tag}` });
      expect(error).toBeUndefined();
      expect(lines.length).toBeGreaterThan(0);
    }
    // Pruning runs after the build has answered (off the deploy's critical path).
    const tags = async () => (await docker.listImages({ filters: { reference: [`dream-app/${app}:*`] } })).flatMap((i) => i.RepoTags ?? []).sort();
    await expect.poll(tags, { timeout: 10_000 }).toEqual([`dream-app/${app}:p2`, `dream-app/${app}:p3`]);
  });
});

async function tarFile(dir: string): Promise<string> {
  const file = `${dir}.tar`;
  await new Promise<void>((resolve, reject) => packDir(dir).pipe(fs.createWriteStream(file)).on('finish', resolve).on('error', reject));
  return file;
}
