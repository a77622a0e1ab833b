// bench/footprint: RSS of each platform process (api, builder, proxy; descendants included) at idle
// with N apps deployed (default 10). Target: ≤ 120 MB for the three together.
//   npx tsx bench/footprint/run.ts [apps=10]            # the processes `npm start` runs
//   npx tsx bench/footprint/run.ts [apps=10] --compose   # the containers of a compose project
import fs from 'node:fs';
import { gitRepo, push, startPlatform, run } from '../../test/e2e/platform.js';
import { platformImage, project, gitPush } from '../../test/e2e/selfhost-helpers.js';
import { treeRssMb } from './rss.js';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 10);
const useCompose = process.argv.includes('--compose');
const IDLE_MS = 15_000;
const names = Array.from({ length: n }, (_, i) => `fp${i}`);

function report(pids: Record<string, number>): void {
  let total = 0;
  console.log(`\nidle footprint with ${n} apps deployed (${useCompose ? 'compose containers' : 'local processes'}):`);
  for (const [name, pid] of Object.entries(pids)) {
    const r = treeRssMb(pid);
    total += r.mb;
    console.log(`  ${name.padEnd(8)} ${r.mb.toFixed(1).padStart(7)} MB  (${r.processes} process${r.processes === 1 ? '' : 'es'})`);
  }
  console.log(`  ${'total'.padEnd(8)} ${total.toFixed(1).padStart(7)} MB  (target ≤ 120 MB: ${total <= 120 ? 'met' : 'NOT met'})\n`);
}

async function local(): Promise<void> {
  const p = await startPlatform({ DREAM_LOG_LEVEL: 'error' });
  try {
    const dir = await gitRepo('node-app');
    for (const app of names) {
      await p.request('POST', '/v1/apps', { name: app });
      const r = await push(p, dir, app);
      if (r.code !== 0) throw new Error(r.output);
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const pids: Record<string, number> = {};
    for (const proc of ['api', 'builder', 'proxy']) {
      const out = (await run('pgrep', ['-f', `apps/${proc}/src/main.ts`])).stdout.split('\n').filter(Boolean).map(Number);
      // Ours: the one whose environment names this platform's data dir.
      pids[proc] = out.find((pid) => { try { return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(p.dataDir); } catch { return false; } }) ?? out[0]!;
    }
    report(pids);
  } finally {
    await run('docker', ['rm', '-f', ...(await run('docker', ['ps', '-aq', '--filter', `network=${p.env.DREAM_DOCKER_NETWORK}`])).stdout.split('\n').filter(Boolean)]).catch(() => {});
    await p.stop();
  }
}

async function composed(): Promise<void> {
  const proj = await project(await platformImage('bench'));
  try {
    await proj.compose('up', '-d');
    await proj.waitHealthy();
    const token = await proj.token();
    const dir = await gitRepo('node-app');
    for (const app of names) {
      await fetch(`${proj.apiUrl}/v1/apps`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: app }) });
      const r = await gitPush(dir, proj.apiUrl, app, token);
      if (r.code !== 0) throw new Error(r.output);
    }
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const pids: Record<string, number> = {};
    for (const svc of ['api', 'builder', 'proxy']) {
      pids[svc] = Number((await run('docker', ['inspect', '--format', '{{.State.Pid}}', await proj.containerId(svc)])).stdout.trim());
    }
    report(pids);
  } finally {
    await proj.down();
    await run('docker', ['rmi', 'selfhost-e2e/platform:bench']).catch(() => {});
    await run('docker', ['image', 'ls', '-q', 'dream-app/fp*']).then(async ({ stdout }) => {
      const ids = [...new Set(stdout.split('\n').filter(Boolean))];
      if (ids.length) await run('docker', ['rmi', '-f', ...ids]).catch(() => {});
    });
  }
}

await (useCompose ? composed() : local());
