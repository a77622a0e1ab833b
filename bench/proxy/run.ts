// Proxy benchmark: the same small upstream measured direct, through our proxy (the real main.ts
// process) and through nginx (one worker, upstream keep-alive), with wrk. Prints figures only.
//   npx tsx bench/proxy/run.ts [--duration 10] [--connections 50]
// Needs `wrk` and `nginx` (apt-get install -y wrk nginx); nginx is skipped if missing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const duration = Number(arg('duration', '10'));
const connections = Number(arg('connections', '50'));
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-bench-'));
const children: ChildProcess[] = [];
const TOKEN = 'int_bench';

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitHttp(port: number, host: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => { res.resume(); resolve(res.statusCode === 200); });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answered 200 on port ${port}`);
}

function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(c);
  return c;
}

/** The api side of the routes contract, just enough to hand the proxy one route. */
async function fakeApi(upstreamPort: number): Promise<string> {
  const table = JSON.stringify({ version: 1, routes: [{ app: 'bench', hosts: ['bench.dream'], endpoints: [{ host: '127.0.0.1', port: upstreamPort }] }] });
  const s = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    if (req.url?.startsWith('/v1/internal/routes/ack')) return void res.writeHead(204).end();
    const since = new URL(req.url ?? '/', 'http://x').searchParams.get('since');
    if (since === '1') { setTimeout(() => res.writeHead(200).end(table), 25_000); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(table);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  s.unref();
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function nginxConf(listen: number, upstream: number): string {
  const d = (n: string) => path.join(tmp, n);
  return `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off; pid ${d('nginx.pid')}; error_log ${d('nginx-error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${d('body')}; proxy_temp_path ${d('proxy')}; fastcgi_temp_path ${d('fcgi')};
  uwsgi_temp_path ${d('uwsgi')}; scgi_temp_path ${d('scgi')};
  upstream app { server 127.0.0.1:${upstream}; keepalive 64; }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
}

interface Figures { name: string; rps: number; p50: string; p99: string; errors: string; cpuUs: number }

/** CPU time (user+sys, µs) of a process and its children's threads: req/s on a shared box is noisy, CPU per request less so. */
function cpuUs(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* not Linux, or gone */ }
  }
  return ticks * 10_000;
}

function childPids(pid: number): number[] {
  try { return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; }
}

async function wrk(name: string, port: number, pids: number[]): Promise<Figures> {
  const args = ['-t2', `-c${connections}`, `-d${duration}s`, '--latency', '-H', 'Host: bench.dream', `http://127.0.0.1:${port}/`];
  await run('wrk', ['-t1', '-c10', '-d2s', '-H', 'Host: bench.dream', `http://127.0.0.1:${port}/`]); // warm-up
  const c0 = cpuUs(pids);
  const { stdout } = await run('wrk', args);
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 'NaN');
  const cpu = (cpuUs(pids) - c0) / total;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 'NaN');
  const p50 = /\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
  const errors = [/Socket errors:[^\n]*/.exec(stdout)?.[0], /Non-2xx or 3xx responses:[^\n]*/.exec(stdout)?.[0]].filter(Boolean).join('; ') || 'none';
  return { name, rps, p50, p99, errors, cpuUs: cpu };
}

async function main(): Promise<void> {
  const results: Figures[] = [];
  const upPort = await freePort();
  const upstream = start(process.execPath, ['--import', 'tsx', path.join(here, 'upstream.ts'), String(upPort)]);
  await waitHttp(upPort, 'bench.dream');
  results.push(await wrk('direct', upPort, [upstream.pid!]));

  const proxyPort = await freePort();
  const ours = start(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    DREAM_DATA_DIR: path.join(tmp, 'data'), DREAM_API_URL: await fakeApi(upPort), DREAM_INTERNAL_TOKEN: TOKEN,
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(proxyPort), DREAM_LOG_LEVEL: 'warn',
  });
  await waitHttp(proxyPort, 'bench.dream');
  results.push(await wrk('dream proxy', proxyPort, [ours.pid!]));

  const nginx = await run('which', ['nginx']).then((r) => r.stdout.trim(), () => '');
  if (nginx) {
    const ngPort = await freePort();
    fs.writeFileSync(path.join(tmp, 'nginx.conf'), nginxConf(ngPort, upPort));
    const master = start(nginx, ['-c', path.join(tmp, 'nginx.conf'), '-p', tmp]);
    await waitHttp(ngPort, 'bench.dream');
    results.push(await wrk('nginx (1 worker)', ngPort, [master.pid!, ...childPids(master.pid!)]));
  } else {
    console.log('nginx not installed: skipped (apt-get install -y nginx)');
  }

  console.log(`\nwrk -t2 -c${connections} -d${duration}s, ${os.cpus().length} CPUs, node ${process.version}`);
  console.log('CPU/req is the server process under test (for direct: the upstream itself).');
  console.log('target'.padEnd(18), 'req/s'.padStart(10), 'p50'.padStart(10), 'p99'.padStart(10), 'CPU/req'.padStart(10), '  errors');
  for (const r of results) console.log(r.name.padEnd(18), r.rps.toFixed(0).padStart(10), r.p50.padStart(10), r.p99.padStart(10), `${r.cpuUs.toFixed(0)}µs`.padStart(10), ' ', r.errors);
}

main()
  .catch((e) => { console.error(e); process.exitCode = 1; })
  .finally(() => {
    for (const c of children) c.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
