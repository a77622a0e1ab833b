// The processes a bench run starts and waits for: the upstream, our proxy (bundled, with a fake api
// handing it one route), the competitors, the relay — and the free ports and certificate they use.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { nginxConf, type Listen } from './configs.js';

export const run = promisify(execFile);
export const HOST = 'bench.dream';
export const TOKEN = 'int_bench';
const children: ChildProcess[] = [];

// Each number once per run: the bench's own copy could hand out one number twice in a row, as the
// tests' once did to Pebble.
export { freePort } from '../../test/free-port.js';

/**
 * Waits for 200 on `/` (plain HTTP, or HTTPS with the bench's self-signed certificate), for up to
 * `timeoutMs`; fails at once, saying so, when `child` (what should answer there) exits first, and
 * on timeout says what the last try got (a refused connection, another status).
 */
export async function waitReady(port: number, tls = false, child?: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const get = tls ? https.get : http.get;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${path.basename(child.spawnfile)} exited (${child.exitCode ?? child.signalCode}) before it answered on port ${port}: its stderr is above`);
    }
    last = await new Promise<string>((resolve) => {
      const req = get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, rejectUnauthorized: false }, (res) => { res.resume(); resolve(`status ${res.statusCode}`); });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    if (last === 'status 200') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing answered 200 on port ${port} within ${timeoutMs / 1000} s (last try: ${last})`);
}

/** A child stopped by stopAll(); its stdout goes to the file `stdout` when given (a --trace-gc log, say), else nowhere. */
export function start(root: string, cmd: string, args: string[], env: Record<string, string> = {}, stdout?: string): ChildProcess {
  const out = stdout === undefined ? 'ignore' : fs.openSync(stdout, 'w');
  const c = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] });
  // The child writes through its own copy of the descriptor; ours is not needed past the spawn.
  if (typeof out === 'number') fs.closeSync(out);
  children.push(c);
  return c;
}

export function stopAll(): void {
  for (const c of children) c.kill('SIGTERM');
}

export const which = (cmd: string) => run('which', [cmd]).then((r) => r.stdout.trim(), () => '');

/** `--name value` from the command line, or `def`. */
export const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };

/** nginx (Debian's) as the equivalent reverse proxy (configs.ts), answering; null when not installed. */
export async function startNginx(root: string, l: Listen): Promise<ChildProcess | null> {
  const nginx = await which('nginx');
  if (!nginx) return null;
  fs.writeFileSync(path.join(l.tmp, 'nginx.conf'), nginxConf(l));
  const p = start(root, nginx, ['-c', path.join(l.tmp, 'nginx.conf'), '-p', l.tmp]);
  await waitReady(l.http, false, p);
  return p;
}

/**
 * The bare Node relay (relay.mjs) on `port` to the app on `upstream`, terminating TLS when given a
 * certificate; answering. With `gcTrace`, run with --trace-gc into that file (alloc.ts).
 */
export async function startRelay(root: string, port: number, upstream: number, tls?: { cert: string; key: string }, gcTrace?: string): Promise<ChildProcess> {
  const script = [path.join(root, 'bench/proxy/relay.mjs'), String(port), String(upstream), ...(tls ? [tls.cert, tls.key] : [])];
  const relay = start(root, process.execPath, gcTrace ? ['--trace-gc', ...script] : script, {}, gcTrace);
  await waitReady(port, tls !== undefined, relay);
  return relay;
}

/** The bench app (upstream.mjs) on `port`, serving HTTPS itself when given a certificate; answering. */
export async function startUpstream(root: string, port: number, tls?: { cert: string; key: string }): Promise<ChildProcess> {
  const app = start(root, process.execPath, [path.join(root, 'bench/proxy/upstream.mjs'), String(port), ...(tls ? [tls.cert, tls.key] : [])]);
  await waitReady(port, tls !== undefined, app);
  return app;
}

/** The api side of the routes contract, just enough to hand the proxy one route. */
export async function fakeApi(upstreamPort: number): Promise<string> {
  const table = JSON.stringify({ version: 1, routes: [{ app: 'bench', hosts: [HOST], endpoints: [{ host: '127.0.0.1', port: upstreamPort }] }] });
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

export async function selfSigned(tmp: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(tmp, 'cert.pem');
  const key = path.join(tmp, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${HOST}`, '-addext', `subjectAltName=DNS:${HOST},IP:127.0.0.1`]);
  return { cert, key };
}

/**
 * The proxy as the image runs it (scripts/selfhost-bundle.mjs, plain node): not through tsx, whose
 * loader thread and esbuild process would share the two cores with what is measured. `name`: the
 * bundle's file name, so two revisions' bundles (ab.ts) do not overwrite each other.
 */
export async function bundledProxy(root: string, name = 'proxy'): Promise<string> {
  const out = path.join(root, 'node_modules', '.cache', 'dreamnet-bench', `${name}.mjs`);
  const { bundle } = (await import(path.join(root, 'scripts', 'selfhost-bundle.mjs'))) as { bundle: (role: string, outfile: string) => Promise<string> };
  await bundle('proxy', out);
  return out;
}

/**
 * The environment our proxy runs a benchmark with: one route from `api`, no access log; the HTTPS
 * listener only with `https` and a certificate (none: port 0, plain HTTP only).
 */
export function proxyEnv(o: { api: string; dataDir: string; http: number; https?: number; cert?: string; key?: string; workers: string }): Record<string, string> {
  return {
    DREAM_DATA_DIR: o.dataDir, DREAM_API_URL: o.api, DREAM_INTERNAL_TOKEN: TOKEN,
    DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(o.http), DREAM_HTTPS_PORT: String(o.https ?? 0), DREAM_LOG_LEVEL: 'warn',
    ...(o.https && o.cert && o.key ? { DREAM_TLS_CERT_FILE: o.cert, DREAM_TLS_KEY_FILE: o.key } : {}),
    DREAM_ACCESS_LOG: 'off', DREAM_PROXY_WORKERS: o.workers,
    // Like nginx and Caddy here: no redirect of plain HTTP (the built-in CA would otherwise issue bench.dream).
    DREAM_HTTPS_REDIRECT: 'off',
  };
}

/**
 * Our proxy: `bundle` run by `node` (`flags` before it) with proxyEnv(`env`), answering on its plain
 * port; its stdout goes to the file `stdout` when given (a --trace-gc log).
 */
export async function startOurs(root: string, bundle: string, env: Parameters<typeof proxyEnv>[0], o: { node?: string; flags?: string[]; stdout?: string } = {}): Promise<ChildProcess> {
  const p = start(root, o.node ?? process.execPath, [...(o.flags ?? []), bundle], proxyEnv(env), o.stdout);
  await waitReady(env.http, false, p);
  return p;
}
