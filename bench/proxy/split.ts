// Where a hop's CPU a request goes: is ours' extra cost over the bare Node relay in the kernel
// (more syscalls, more wake-ups) or in user space (our JavaScript, V8, OpenSSL)? Ours, the relay and
// nginx each get the same paced load twice: once under `strace -c` (syscalls a request; strace slows
// the traced process, so only the counts are used) and once under `perf record` (CPU samples a
// request by the object they land in: the kernel, node's C++ with V8's runtime, OpenSSL and libuv,
// V8-compiled JavaScript, libc). Tracers attach after wrk's warm-up: only the measured requests count.
//   npx tsx bench/proxy/split.ts [--rate 8000] [--proto https] [--duration 5]
// Needs strace and perf (`apt-get install -y strace linux-perf`).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, bundledProxy, fakeApi, freePort, HOST, run, selfSigned, startNginx, startOurs, startRelay, startUpstream, stopAll, which } from './procs.js';
import { withChildren, wrk } from './wrk.js';

const rate = Number(arg('rate', '8000'));
const proto = arg('proto', 'https') as 'http' | 'https';
const duration = Number(arg('duration', '5'));
const HZ = 1999; // perf's sampling frequency: one sample ≈ 500 µs of a thread running
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-split-'));

interface Target { name: string; url: string; pids: () => number[] }

/** One paced wrk run with `tracer` attached to the target's processes for the measured part; the requests it made. */
async function traced(t: Target, tracer: (pids: number[]) => string[]): Promise<number> {
  let child: ChildProcess | undefined;
  const f = await wrk(t.name, t.url, {
    connections: 50, duration, host: HOST, tmp, rate,
    pids: () => {
      const pids = t.pids();
      const [cmd, ...args] = tracer(pids);
      child = spawn(cmd!, args, { stdio: 'ignore' });
      return pids;
    },
  });
  child!.kill('SIGINT');
  await new Promise((r) => child!.once('exit', r));
  return f.rps * duration;
}

/** `strace -c`'s table → calls a request, the busiest first (those under 0.05 a request left out). */
function syscalls(file: string, requests: number): string {
  const rows = fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 5 && /^\d+$/.test(c[3]!) && c[c.length - 1] !== 'total');
  const per = rows.map((c) => [c[c.length - 1]!, Number(c[3]) / requests] as const).sort((a, b) => b[1] - a[1]);
  const total = per.reduce((s, [, n]) => s + n, 0);
  return `${total.toFixed(1)} a request: ${per.filter(([, n]) => n >= 0.05).map(([s, n]) => `${s} ${n.toFixed(2)}`).join(', ')}`;
}

/** `perf report --sort dso`'s sample counts → µs a request in each object, the busiest first. */
async function objects(file: string, requests: number): Promise<string> {
  const { stdout } = await run('perf', ['report', '-i', file, '--sort', 'dso', '--stdio', '-n'], { maxBuffer: 1 << 24 });
  const us = new Map<string, number>();
  for (const m of stdout.matchAll(/^\s+[\d.]+%\s+(\d+)\s+(.+?)\s*$/gm)) {
    // V8's generated code shows up as "[JIT] tid N" (or perf-N.map with --perf-basic-prof).
    const dso = /^\[JIT\]|^perf-\d+\.map$/.test(m[2]!) ? 'JavaScript (V8 JIT)' : m[2]!;
    us.set(dso, (us.get(dso) ?? 0) + (Number(m[1]) / HZ / requests) * 1e6);
  }
  const sorted = [...us].sort((a, b) => b[1] - a[1]);
  const total = sorted.reduce((s, [, v]) => s + v, 0);
  return `${total.toFixed(0)} µs a request: ${sorted.filter(([, v]) => v >= 0.5).map(([d, v]) => `${d} ${v.toFixed(1)}`).join(', ')}`;
}

async function main(): Promise<void> {
  for (const tool of ['strace', 'perf']) {
    if (!(await which(tool))) throw new Error(`${tool} is not installed: apt-get install -y strace linux-perf`);
  }
  const { cert, key } = await selfSigned(tmp);
  const app = await freePort();
  await startUpstream(root, app);
  const url = (port: number) => `${proto}://127.0.0.1:${port}/`;
  const ports = { http: await freePort(), https: await freePort() };
  const p = await startOurs(root, await bundledProxy(root, 'proxy-split'), { api: await fakeApi(app), dataDir: path.join(tmp, 'data'), ...ports, cert, key, workers: '1' });
  const targets: Target[] = [{ name: 'dream proxy', url: url(ports[proto]), pids: () => withChildren(p.pid!) }];
  const relayPort = await freePort();
  const relay = await startRelay(root, relayPort, app, proto === 'https' ? { cert, key } : undefined);
  targets.push({ name: `node ${proto === 'https' ? 'tls' : 'tcp'} relay`, url: url(relayPort), pids: () => [relay.pid!] });
  const l = { http: await freePort(), https: await freePort(), upstream: app, cert, key, tmp };
  const nginx = await startNginx(root, l);
  if (nginx) targets.push({ name: 'nginx', url: url(l[proto]), pids: () => withChildren(nginx.pid!) });

  console.log(`${duration} s at ~${rate} req/s (${proto}) per target and tracer, ${os.cpus().length} CPUs, node ${process.version}`);
  for (const [i, t] of targets.entries()) {
    const st = path.join(tmp, `${i}.strace`);
    const nSys = await traced(t, (pids) => ['strace', '-c', '-f', '-o', st, ...pids.flatMap((x) => ['-p', String(x)])]);
    const pf = path.join(tmp, `${i}.perf`);
    const nPerf = await traced(t, (pids) => ['perf', 'record', '-q', '-F', String(HZ), '-o', pf, '-p', pids.join(',')]);
    console.log(`${t.name}\n  syscalls: ${syscalls(st, nSys)}\n  CPU: ${await objects(pf, nPerf)}`);
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(() => { stopAll(); fs.rmSync(tmp, { recursive: true, force: true }); });
