// Starts the real platform — builder, api and proxy as separate processes, as `npm start` does — on
// free loopback ports with a fresh data dir, against the real Docker engine.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const run = promisify(execFile);

import { freePort } from '../free-port.js';
export { freePort };

export interface Platform {
  apiUrl: string;
  proxyPort: number;
  /**
   * The proxy's HTTPS port (certificates from the built-in .dream CA unless extraEnv says
   * otherwise). Plain HTTP is not redirected here unless extraEnv sets DREAM_HTTPS_REDIRECT=on.
   */
  httpsPort: number;
  token: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  logs: Record<string, string>;
  api: ChildProcess;
  restart(name: 'api' | 'proxy' | 'builder', signal?: NodeJS.Signals): Promise<void>;
  request(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  get(app: string, urlPath?: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

const ENTRIES = { builder: 'apps/builder/src/main.ts', api: 'apps/api/src/main.ts', proxy: 'apps/proxy/src/main.ts' } as const;

export async function startPlatform(extraEnv: Record<string, string> = {}): Promise<Platform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-e2e-'));
  const [apiPort, builderPort, proxyPort, httpsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    DREAM_DATA_DIR: dataDir, DREAM_API_PORT: String(apiPort), DREAM_BUILDER_PORT: String(builderPort),
    DREAM_HTTP_PORT: String(proxyPort), DREAM_HTTPS_PORT: String(httpsPort), DREAM_HTTPS_REDIRECT: 'off', DREAM_HTTP_HOST: '127.0.0.1', DREAM_BASE_IMAGE_NODE: 'dreamnet/node:20',
    DREAM_DOCKER_NETWORK: `dream-e2e-${path.basename(dataDir).slice(-6).toLowerCase()}`, DREAM_LOG_LEVEL: 'warn', DREAM_HEALTH_TIMEOUT_MS: '30000',
    DREAM_RECONCILE_INTERVAL_MS: '2000', DREAM_DRAIN_TIMEOUT_MS: '5000',
    ...extraEnv,
  };
  const procs: Partial<Record<keyof typeof ENTRIES, ChildProcess>> = {};
  const logs: Record<string, string> = { builder: '', api: '', proxy: '' };
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const launch = (name: keyof typeof ENTRIES) => {
    // node itself with tsx as a loader (not the tsx CLI, which forks): signals reach the real process.
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, ENTRIES[name])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (c) => { logs[name] += c; });
    p.stderr!.on('data', (c) => { logs[name] += c; });
    procs[name] = p;
    return p;
  };
  const waitFor = async (url: string, ok: (status: number) => boolean = (s) => s === 200) => {
    for (let i = 0; i < 200; i++) {
      const status = await fetch(url).then((r) => r.status, () => 0);
      if (ok(status)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not come up. Logs:\n${JSON.stringify(logs, null, 1)}`);
  };
  const stopOne = (name: keyof typeof ENTRIES, signal: NodeJS.Signals = 'SIGTERM') => new Promise<void>((resolve) => {
    const p = procs[name];
    if (!p || p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill(signal);
  });
  const up = async (name: keyof typeof ENTRIES) => {
    launch(name);
    if (name === 'api') await waitFor(`${apiUrl}/healthz`);
    if (name === 'builder') await waitFor(`http://127.0.0.1:${builderPort}/healthz`);
    if (name === 'proxy') await waitFor(`http://127.0.0.1:${proxyPort}/__dream/healthz`);
  };

  await up('builder');
  await up('api');
  await up('proxy');
  const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();

  return {
    apiUrl, proxyPort, httpsPort: Number(env.DREAM_HTTPS_PORT), token, dataDir, env, logs,
    get api() { return procs.api!; },
    async restart(name, signal = 'SIGTERM') { await stopOne(name, signal); await up(name); },
    async request(method, url, body) {
      const res = await fetch(apiUrl + url, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    get: (app, urlPath = '/') => getVia(proxyPort, `${app}.dream`, urlPath),
    async stop() {
      await Promise.all((Object.keys(procs) as (keyof typeof ENTRIES)[]).map((n) => stopOne(n)));
      await run('docker', ['network', 'rm', env.DREAM_DOCKER_NETWORK!]).catch(() => {});
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

export function getVia(port: number, host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** POSTs `body` to `host` through the proxy on a fresh connection (a refused upload closes it). */
export function postVia(port: number, host: string, urlPath: string, body: Buffer): Promise<{ status: number; body: string; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { host, 'content-length': body.length }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, ...(res.headers['x-dream-error'] ? { code: String(res.headers['x-dream-error']) } : {}) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Makes a git repository from a fixture directory (copied), committed on `main`. */
export async function gitRepo(fixture: string, files: Record<string, string> = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-src-'));
  fs.cpSync(path.join(ROOT, 'test/e2e/fixtures', fixture), dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const g = (...args: string[]) => run('git', args, { cwd: dir });
  await g('init', '-q', '-b', 'main');
  await g('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'add', '-A');
  await g('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'initial');
  return dir;
}

export async function commit(dir: string, files: Record<string, string>, message = 'change'): Promise<void> {
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qam', message], { cwd: dir });
}

/** `git push` with the real client; resolves with its exit code and combined output. */
export function push(p: Platform, dir: string, app: string, refspec = 'main'): Promise<{ code: number; output: string }> {
  const url = `http://dream:${p.token}@127.0.0.1:${new URL(p.apiUrl).port}/git/${app}.git`;
  return new Promise((resolve) => {
    const child = spawn('git', ['push', url, refspec], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, GIT_TERMINAL_PROMPT: '0' } });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    child.on('close', (code) => resolve({ code: code ?? 1, output: output.replaceAll(p.token, '***') }));
  });
}
