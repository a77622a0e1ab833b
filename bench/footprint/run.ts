// bench/footprint: memory of each platform process (api, builder, proxy; descendants included) at
// idle with N real apps deployed (default 10). Target: ≤ 120 MB for the three together.
//   npx tsx bench/footprint/run.ts [apps=10]            # the processes `npm start` runs
//   npx tsx bench/footprint/run.ts [apps=10] --compose   # the containers of a compose project
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, gitRepo, ROOT, run } from '../../test/e2e/platform.js';
import { platformImage, project, gitPush } from '../../test/e2e/selfhost-helpers.js';
import { children } from './mem.js';
import { report } from './report.js';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 10);
const useCompose = process.argv.includes('--compose');
const IDLE_MS = 15_000;
const names = Array.from({ length: n }, (_, i) => `fp${i}`);

async function deployAll(apiUrl: string, token: string): Promise<void> {
  const dir = await gitRepo('node-app');
  for (const app of names) {
    const res = await fetch(`${apiUrl}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: app }) });
    if (res.status !== 201) throw new Error(`create ${app}: ${res.status} ${await res.text()}`);
    const r = await gitPush(dir, apiUrl, app, token);
    if (r.code !== 0) throw new Error(r.output.replaceAll(token, '***'));
  }
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer`);
}

/** `npm start` itself (scripts/start.ts, with its node flags), on free ports and a fresh data dir. */
async function local(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-footprint-'));
  const [api, builder, http, https] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const network = `dream-fp-${path.basename(dataDir).slice(-6).toLowerCase()}`;
  const env = {
    PATH: process.env.PATH, HOME: process.env.HOME, DREAM_DATA_DIR: dataDir, DREAM_API_PORT: String(api), DREAM_BUILDER_PORT: String(builder),
    DREAM_HTTP_PORT: String(http), DREAM_HTTPS_PORT: String(https), DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTPS_REDIRECT: 'off',
    DREAM_BASE_IMAGE_NODE: 'dreamnet/node:20', DREAM_DOCKER_NETWORK: network, DREAM_LOG_LEVEL: 'warn',
  };
  const start = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  start.stdout!.on('data', (c) => { log += c; });
  start.stderr!.on('data', (c) => { log += c; });
  try {
    await waitFor(`http://127.0.0.1:${http}/__dream/healthz`).catch((e) => { throw new Error(`${(e as Error).message}\n${log}`); });
    await deployAll(`http://127.0.0.1:${api}`, fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim());
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const pids: Record<string, number> = {};
    for (const pid of children(start.pid!)) {
      const role = /apps\/(api|builder|proxy)\/src\/main\./.exec(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1];
      if (role) pids[role] = pid;
    }
    report(`${n} apps deployed, local processes of \`npm start\``, { api: pids.api!, builder: pids.builder!, proxy: pids.proxy! });
  } finally {
    await new Promise<void>((resolve) => { start.once('exit', () => resolve()); start.kill('SIGTERM'); });
    const ids = (await run('docker', ['ps', '-aq', '--filter', `network=${network}`])).stdout.split('\n').filter(Boolean);
    if (ids.length) await run('docker', ['rm', '-f', ...ids]).catch(() => {});
    await run('docker', ['network', 'rm', network]).catch(() => {});
    await removeAppImages();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function composed(): Promise<void> {
  const proj = await project(await platformImage('bench'));
  try {
    await proj.compose('up', '-d');
    await proj.waitHealthy();
    await deployAll(proj.apiUrl, await proj.token());
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const pids: Record<string, number> = {};
    for (const svc of ['api', 'builder', 'proxy']) {
      pids[svc] = Number((await run('docker', ['inspect', '--format', '{{.State.Pid}}', await proj.containerId(svc)])).stdout.trim());
    }
    report(`${n} apps deployed, compose containers`, { api: pids.api!, builder: pids.builder!, proxy: pids.proxy! });
  } finally {
    await proj.down();
    await run('docker', ['rmi', 'selfhost-e2e/platform:bench']).catch(() => {});
    await removeAppImages();
  }
}

async function removeAppImages(): Promise<void> {
  const ids = [...new Set((await run('docker', ['image', 'ls', '-q', 'dream-app/fp*'])).stdout.split('\n').filter(Boolean))];
  if (ids.length) await run('docker', ['rmi', '-f', ...ids]).catch(() => {});
}

await (useCompose ? composed() : local());
