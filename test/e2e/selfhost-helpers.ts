// Helpers for the self-hosting tests: the platform image (built once per run), compose projects
// with their own ports, volumes and app network, and a constant request load that counts failures.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { buildPlatformImage, edgeImage, registryImage } from '../../scripts/selfhost-image.js';
import { ROOT, freePort, run } from './platform.js';

export const IMAGE = 'selfhost-e2e/platform';
export const REGISTRY = 'selfhost-e2e/registry:2';
export const EDGE = 'selfhost-e2e/edge:1';
export const COMPOSE_FILE = path.join(ROOT, 'compose/docker-compose.yml');

export async function platformImage(version: string): Promise<string> {
  return buildPlatformImage({ tag: `${IMAGE}:${version}`, version, quiet: true });
}

export interface Project {
  name: string; envFile: string; network: string; apiUrl: string; proxyPort: number; httpsPort: number; dir: string;
  compose(...args: string[]): Promise<string>;
  token(): Promise<string>;
  setEnv(key: string, value: string): void;
  waitHealthy(services?: string[]): Promise<void>;
  containerId(service: string): Promise<string>;
  /** scripts/selfhost-proxy-replace.sh on this project: its output. */
  replaceProxy(): Promise<string>;
  down(): Promise<void>;
}

export async function project(image: string): Promise<Project> {
  const id = crypto.randomBytes(3).toString('hex');
  const name = `selfhost${id}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'selfhost-'));
  const network = `selfhost-${id}`;
  const [api, httpPort, httpsPort, reg] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const envFile = path.join(dir, '.env');
  fs.writeFileSync(envFile, [
    `DREAM_IMAGE=${image}`, `DREAM_REGISTRY_IMAGE=${await registryImage({ tag: REGISTRY, quiet: true })}`,
    `DREAM_EDGE_IMAGE=${await edgeImage({ tag: EDGE, source: image, quiet: true })}`,
    `DREAM_INTERNAL_TOKEN=${crypto.randomBytes(24).toString('hex')}`, `DOCKER_GID=${fs.statSync('/var/run/docker.sock').gid}`,
    `DREAM_DOCKER_NETWORK=${network}`, `DREAM_PUBLISH_API=${api}`, `DREAM_PUBLISH_HTTP=${httpPort}`, `DREAM_PUBLISH_HTTPS=${httpsPort}`,
    `DREAM_PUBLISH_REGISTRY=${reg}`, 'DREAM_API_BIND=127.0.0.1', 'DREAM_HTTP_BIND=127.0.0.1',
    // Plain HTTP for the load tests; the last test turns the redirect on.
    'DREAM_HTTPS_REDIRECT=off', 'DREAM_BASE_IMAGE_NODE=dreamnet/node:20', '',
  ].join('\n'), { mode: 0o600 });
  await run('docker', ['network', 'create', network]);
  const compose = async (...args: string[]) => (await run('docker-compose', ['-f', COMPOSE_FILE, '--env-file', envFile, '-p', name, ...args], { maxBuffer: 32 * 1024 * 1024 })).stdout;
  const containerId = async (service: string) => (await compose('ps', '-q', service)).trim();
  const p: Project = {
    name, envFile, network, dir, apiUrl: `http://127.0.0.1:${api}`, proxyPort: httpPort, httpsPort, compose, containerId,
    async replaceProxy() {
      const r = await run('bash', [path.join(ROOT, 'scripts/selfhost-proxy-replace.sh')], { env: { ...process.env, DREAM_ENV_FILE: envFile, COMPOSE_PROJECT_NAME: name } });
      return r.stdout + r.stderr;
    },
    async token() { return (await run('docker', ['exec', await containerId('api'), 'cat', '/var/lib/dream/admin-token'])).stdout.trim(); },
    setEnv(key, value) {
      const lines = fs.readFileSync(envFile, 'utf8').split('\n').filter((l) => !l.startsWith(`${key}=`));
      fs.writeFileSync(envFile, [...lines.filter(Boolean), `${key}=${value}`, ''].join('\n'));
    },
    async waitHealthy(services = ['api', 'builder', 'proxy', 'registry']) {
      for (let i = 0; i < 120; i++) {
        const states = await Promise.all(services.map(async (s) => (await run('docker', ['inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', await containerId(s)]).catch(() => ({ stdout: '' }))).stdout.trim()));
        if (states.every((s) => s === 'healthy')) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new Error(`${name} not healthy:\n${await compose('logs', '--tail=30').catch((e) => String(e))}`);
    },
    async down() {
      await compose('down', '-v', '--remove-orphans').catch(() => '');
      const apps = (await run('docker', ['ps', '-aq', '--filter', `network=${network}`])).stdout.split('\n').filter(Boolean);
      if (apps.length) await run('docker', ['rm', '-f', ...apps]).catch(() => {});
      await run('docker', ['network', 'rm', network]).catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return p;
}

/**
 * GETs `host` through the proxy every `everyMs` until stopped; counts what failed and how. `fresh`:
 * a new connection for every request (what a port without a listener refuses), else keep-alive.
 */
export function load(port: number, host: string, everyMs = 20, urlPath = '/', fresh = false) {
  const agent = fresh ? new http.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  let ok = 0; let failed = 0; const errors = new Map<string, number>(); let stopped = false;
  const once = () => new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode === 200) ok++; else { failed++; errors.set(`HTTP ${res.statusCode}`, (errors.get(`HTTP ${res.statusCode}`) ?? 0) + 1); } resolve(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => { failed++; const k = e.code ?? e.message; errors.set(k, (errors.get(k) ?? 0) + 1); resolve(); });
  });
  const loop = (async () => { while (!stopped) { const t = Date.now(); await once(); await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t)))); } })();
  return { async stop() { stopped = true; await loop; agent.destroy(); return { ok, failed, errors: Object.fromEntries(errors) }; } };
}

export async function gitPush(dir: string, apiUrl: string, app: string, token: string): Promise<{ code: number; output: string }> {
  const url = new URL(`${apiUrl}/git/${app}.git`); url.username = 'x'; url.password = token;
  return run('git', ['-C', dir, 'push', url.toString(), 'main'], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } })
    .then((r) => ({ code: 0, output: r.stdout + r.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }));
}

export async function dream(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [path.join(ROOT, 'apps/cli/bin/dream.js'), ...args], { cwd: ROOT, env: { ...process.env, HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'selfhost-home-')), ...env } })
    .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
}
