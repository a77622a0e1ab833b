// `npm start`: the whole platform on one machine with embedded defaults — makes sure a Docker
// engine and base images exist, then runs api, builder and proxy as child processes and stops them
// together on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, keepRunningWithoutStdio, loadConfig, appUrl } from '@dreamnet/core';
import { ensureDocker } from './ensure-docker.js';
import { ensureBaseImages, NODE_IMAGE } from './base-images.js';
import { run } from './lib/run.js';

keepRunningWithoutStdio(); // `npm start | tee log` with tee gone must not stop the platform
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env: NodeJS.ProcessEnv = { ...process.env };

let config;
try { config = loadConfig(env); } catch (e) {
  if (e instanceof ConfigError) { console.error(`dream: ${e.message}`); process.exit(2); }
  throw e;
}

try {
  await ensureDocker();
  await ensureBaseImages();
} catch (e) {
  console.error(`dream: ${(e as Error).message}`);
  process.exit(1);
}

// Where the official base image cannot be had (no registry reachable), use the local one.
if (!env.DREAM_BASE_IMAGE_NODE) {
  const have = (await run('docker', ['image', 'inspect', config.baseImageNode], { quiet: true })) === 0
    || (await run('docker', ['pull', '-q', config.baseImageNode], { quiet: true })) === 0;
  if (!have) {
    console.log(`dream: ${config.baseImageNode} cannot be pulled here; Node and static builds use the local ${NODE_IMAGE} (set DREAM_BASE_IMAGE_NODE to choose).`);
    env.DREAM_BASE_IMAGE_NODE = NODE_IMAGE;
  }
}

const children: ChildProcess[] = [];
let stopping = false;

// api and builder are not hot paths: they trade a little speed for idle memory, as in
// compose/docker-compose.yml (a 1 MB young generation, no V8 background threads, two malloc arenas).
const LEAN = { flags: ['--max-semi-space-size=1', '--single-threaded'], env: { MALLOC_ARENA_MAX: '2' } };

function startChild(name: string, entry: string, lean = false): ChildProcess {
  // node with tsx as a loader, not the tsx CLI (which forks): our signals reach the real process.
  const child = spawn(process.execPath, [...(lean ? LEAN.flags : []), '--import', 'tsx', path.join(root, entry)], {
    cwd: root, env: lean ? { ...LEAN.env, ...env } : env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).map((l) => `[${name}] ${human(l)}\n`).join('');
  child.stdout!.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
  child.stderr!.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  child.on('exit', (code, sig) => {
    if (stopping) return;
    console.error(`dream: ${name} exited (${sig ?? code}); stopping the platform.`);
    void stop(1);
  });
  children.push(child);
  return child;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);
/** pino's JSON lines, made readable for a terminal (the processes themselves log JSON). */
function human(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const extra = Object.entries(o).filter(([k]) => !SKIP.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return [LEVELS[o.level as number] ?? '', o.msg ?? '', ...extra].filter(Boolean).join(' ');
  } catch { return line; }
}

async function waitHealthy(url: string): Promise<boolean> {
  for (let i = 0; i < 240; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\ndream: stopping api, builder and proxy…');
  await Promise.all(children.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  })));
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

// Builder and api first, so the proxy's first route poll finds the api.
startChild('builder', 'apps/builder/src/main.ts', true);
startChild('api', 'apps/api/src/main.ts', true);
if (!(await waitHealthy(`${config.apiUrl}/healthz`))) {
  console.error(`dream: the api did not answer at ${config.apiUrl}/healthz within 60 s; see the [api] lines above.`);
  await stop(1);
}
startChild('proxy', 'apps/proxy/src/main.ts');
console.log([
  '',
  `DreamNet Platform is running.`,
  `  api + git:  ${config.apiUrl}`,
  `  apps:       ${appUrl(config, '<app>')}   (point *.dream at this machine, or use curl -H 'Host: <app>.dream')`,
  `  data:       ${config.dataDir}`,
  '',
  `Next:  npx dream login --url ${config.apiUrl} --token "$(cat ${path.join(config.dataDir, 'admin-token')})"`,
  `       npx dream apps create hello && git remote add dream ${config.apiUrl}/git/hello.git && git push dream main`,
  'Stop with Ctrl-C.',
  '',
].join('\n'));
