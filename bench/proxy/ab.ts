// Two revisions of our proxy at one fixed request rate, in alternating rounds: did a change move
// the p99, p90 or CPU per request, beyond what this shared box moves between runs? The run.ts
// figures come minutes apart and swing by milliseconds; here both bundles serve the same upstream
// in the same minutes, each round measuring direct first, then both (their order swapped every
// round), each judged against that round's direct.
//   npx tsx bench/proxy/ab.ts --base REV [--rate 5000] [--protos https,http] [--rounds 8] [--duration 10] [--base-node PATH]
// --rate 0: at saturation instead (wrk's 50 connections, unpaced): throughput and CPU per request.
// --base-node PATH: the base runs under that node binary (another Node release: does the runtime
// move the figures?); --base HEAD with it compares runtimes alone.
// REV (a git revision) is built in a temporary worktree that links to this checkout's installed
// packages (its own workspaces: worktree()); the other side is the working tree, uncommitted
// changes included.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { med, signed } from './latency.js';
import { arg, bundledProxy, fakeApi, freePort, HOST, selfSigned, startOurs, startUpstream, stopAll } from './procs.js';
import { withChildren, wrk, type Figures } from './wrk.js';

const base = arg('base', 'HEAD');
const rate = Number(arg('rate', '5000'));
const protos = arg('protos', 'https,http').split(',') as Array<'http' | 'https'>;
const rounds = Math.max(1, Number(arg('rounds', '8')));
const duration = Number(arg('duration', '10'));
const baseNode = arg('base-node', process.execPath);
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-ab-'));
const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();

/**
 * `rev` checked out beside this one, sharing this checkout's installed packages. Not one symlink to
 * node_modules: the workspaces' links in it (`@dreamnet/core -> ../../packages/core`) would then
 * resolve into this checkout, and the base would be built with the current packages/. So the
 * worktree gets its own node_modules of links: relative ones (workspaces) copied as they are, so
 * they point into the worktree, everything else to this checkout's copy.
 */
function worktree(rev: string): string {
  const dir = path.join(tmp, 'base');
  git('worktree', 'add', '--quiet', '--detach', dir, rev);
  const mirror = (from: string, to: string, depth: number) => {
    fs.mkdirSync(to, { recursive: true });
    for (const e of fs.readdirSync(from, { withFileTypes: true })) {
      const [src, dst] = [path.join(from, e.name), path.join(to, e.name)];
      if (e.isSymbolicLink() && !path.isAbsolute(fs.readlinkSync(src))) fs.symlinkSync(fs.readlinkSync(src), dst);
      else if (e.isDirectory() && e.name.startsWith('@') && depth === 0) mirror(src, dst, 1);
      else fs.symlinkSync(src, dst);
    }
  };
  for (const ws of ['.', ...['apps', 'packages'].flatMap((d) => fs.readdirSync(path.join(root, d)).map((n) => path.join(d, n)))]) {
    const nm = path.join(root, ws, 'node_modules');
    if (fs.existsSync(nm) && fs.existsSync(path.join(dir, ws))) mirror(nm, path.join(dir, ws, 'node_modules'), 0);
  }
  return dir;
}

function removeWorktree(): void {
  if (fs.existsSync(path.join(tmp, 'base'))) git('worktree', 'remove', '--force', path.join(tmp, 'base'));
}

async function main(): Promise<void> {
  const rev = git('rev-parse', '--short', base);
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'apps/*/src', 'packages/*/src', 'scripts') !== ''; // what the bundle is built from
  const baseVersion = baseNode === process.execPath ? '' : ` on node ${execFileSync(baseNode, ['--version'], { encoding: 'utf8' }).trim()}`;
  const sides = [{ name: `base ${rev}${baseVersion}`, bundle: fs.realpathSync(await bundledProxy(worktree(base), 'proxy-ab-base')) },
    { name: `current ${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''}`, bundle: await bundledProxy(root, 'proxy-ab-current') }];
  removeWorktree(); // the base's bundle is in this checkout's node_modules (realpath above)
  const upPort = await freePort();
  const up = await startUpstream(root, upPort);
  const { cert, key } = await selfSigned(tmp);
  const api = await fakeApi(upPort);
  const procs = [];
  for (const [i, s] of sides.entries()) {
    const ports = { http: await freePort(), https: await freePort() };
    const p = await startOurs(root, s.bundle, { api, dataDir: path.join(tmp, `data-${i}`), ...ports, cert, key, workers: '1' }, { node: i === 0 ? baseNode : process.execPath });
    procs.push({ ...s, ...ports, pids: () => withChildren(p.pid!) });
  }
  console.log(`${sides[0]!.name} against ${sides[1]!.name}: ${rounds} rounds of ${duration} s at ${rate ? `~${rate} req/s` : 'saturation'} (${protos.join(', ')}), direct first in each round, node ${process.version}, ${os.cpus().length} CPUs`);
  const runs = new Map<string, Array<{ f: Figures; direct: Figures }>>();
  for (let r = 0; r < rounds; r++) {
    for (const proto of protos) {
      const direct = await wrk('direct', `http://127.0.0.1:${upPort}/`, { connections: 50, duration, host: HOST, pids: () => [up.pid!], tmp, rate });
      for (const p of r % 2 ? [...procs].reverse() : procs) {
        const f = await wrk(`${p.name} ${proto}`, `${proto}://127.0.0.1:${p[proto]}/`, { connections: 50, duration, host: HOST, pids: p.pids, tmp, rate });
        runs.set(f.name, [...(runs.get(f.name) ?? []), { f, direct }]);
        console.log(`round ${r + 1} ${f.name}: p99 ${f.p99} (direct ${direct.p99}: ${signed(f.p99ms - direct.p99ms)}), p90 ${f.p90ms.toFixed(2)} ms, ${f.cpuUs.toFixed(0)} µs CPU a request, ${f.rps.toFixed(0)} req/s, errors ${f.errors}`);
      }
    }
  }
  for (const proto of protos) {
    const [b, c] = procs.map((p) => runs.get(`${p.name} ${proto}`)!);
    for (const [p, xs] of [[procs[0]!, b!], [procs[1]!, c!]] as const) {
      console.log(`${proto} ${p.name}: median p99 above direct ${signed(med(xs.map((x) => x.f.p99ms - x.direct.p99ms)))}, p90 ${med(xs.map((x) => x.f.p90ms)).toFixed(2)} ms, CPU a request ${med(xs.map((x) => x.f.cpuUs)).toFixed(0)} µs`);
    }
    const lower = (k: (f: Figures) => number) => c!.filter((x, i) => k(x.f) < k(b![i]!.f)).length;
    console.log(`${proto}: current below base in ${lower((f) => f.p99ms)} of ${rounds} rounds for p99, ${lower((f) => f.p90ms)} for p90, ${lower((f) => f.cpuUs)} for CPU a request`);
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => { stopAll(); removeWorktree(); fs.rmSync(tmp, { recursive: true, force: true }); });
