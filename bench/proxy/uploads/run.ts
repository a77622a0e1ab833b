// Uploads through the proxy, in one invocation: what request buffering (DREAM_PROXY_REQUEST_BUFFERING)
// costs and what it buys, against the app reached directly, our proxy streaming uploads (=off), and
// nginx (proxy_request_buffering on, its default; client_max_body_size 0).
//   npx tsx bench/proxy/uploads/run.ts [--sizes 8,100] [--slow 4] [--seconds 6]
// 1. time to upload one body of each size (MB) on a fresh connection, the median of 15 (of 3 from
//    100 MB up), after 3 uploads of 1 MB to each target that are not counted (a process's first
//    requests load code and open files: a median of 3 from cold took 1 MB buffered from 5 to 19 ms);
// 2. slow uploaders against an app with one worker (one-worker.mjs, as a gunicorn sync worker):
//    `--slow` clients each sending a 64 KiB body in 1 KiB pieces every 100 ms, while a probe GETs
//    `/` every 100 ms for `--seconds`: the probe's latency and how many did not finish within 1 s.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bundledProxy, fakeApi, freePort, HOST, proxyEnv, start as startIn, stopAll, waitReady, which } from '../procs.js';

const arg = (name: string, def: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1]! : def; };
const sizes = arg('sizes', '8,100').split(',').map(Number);
const slowClients = Number(arg('slow', '4'));
const seconds = Number(arg('seconds', '6'));
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-bench-'));
const start = (cmd: string, args: string[], env: Record<string, string> = {}) => startIn(root, cmd, args, env);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One POST of `bytes` on a fresh connection; resolves with the ms until the whole answer came. */
function upload(port: number, bytes: number, paceMs = 0, piece = 1024): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { out += d; if (/\r\n\r\ngot \d+\n$/.test(out)) { s.destroy(); resolve(performance.now() - t0); } });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`connection closed with no answer; got ${JSON.stringify(out.slice(0, 200))}`)));
    s.write(`POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: ${bytes}\r\n\r\n`);
    if (!paceMs) { s.write(Buffer.alloc(bytes, 7)); return; }
    let sent = 0;
    const t = setInterval(() => { const n = Math.min(piece, bytes - sent); s.write(Buffer.alloc(n, 7)); sent += n; if (sent >= bytes) clearInterval(t); }, paceMs);
    s.on('close', () => clearInterval(t));
  });
}

/** GET / with a deadline; resolves with its ms, or `limit` when it had not finished by then. */
function probe(port: number, limit: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent: false }, (res) => { res.resume(); res.on('end', () => resolve(performance.now() - t0)); });
    req.on('error', () => resolve(limit));
    req.setTimeout(limit, () => { req.destroy(); resolve(limit); });
  });
}

async function slowUploaders(port: number): Promise<string> {
  const uploads = Array.from({ length: slowClients }, () => upload(port, 64 * 1024, 100).catch(() => NaN));
  await sleep(200);
  const probes: Promise<number>[] = [];
  for (let i = 0; i < seconds * 10; i++) { probes.push(probe(port, 1000)); await sleep(100); }
  const ms = (await Promise.all(probes)).sort((a, b) => a - b);
  await Promise.all(uploads);
  const late = ms.filter((x) => x >= 1000).length;
  return `probe p50 ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} ms, max ${ms[ms.length - 1]!.toFixed(0)} ms, ${late} of ${ms.length} not answered within 1 s`;
}

async function main(): Promise<void> {
  const appPort = await freePort();
  const app = start(process.execPath, [path.join(here, 'one-worker.mjs'), String(appPort)]);
  await waitReady(appPort, false, app);
  const bundle = await bundledProxy(root);
  const targets: Array<{ name: string; port: number }> = [{ name: 'direct', port: appPort }];
  for (const mode of ['on', 'off']) {
    const port = await freePort();
    const env = proxyEnv({ api: await fakeApi(appPort), dataDir: path.join(tmp, `data-${mode}`), http: port, workers: '1' });
    const proxy = start(process.execPath, [bundle], { ...env, DREAM_PROXY_REQUEST_BUFFERING: mode });
    await waitReady(port, false, proxy);
    targets.push({ name: `dream proxy (buffering ${mode})`, port });
  }
  const nginx = await which('nginx');
  if (nginx) {
    const port = await freePort();
    const d = (n: string) => path.join(tmp, n);
    fs.writeFileSync(d('nginx.conf'), `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes auto; daemon off; pid ${d('nginx.pid')}; error_log ${d('nginx-error.log')} warn;
events { worker_connections 4096; }
http { access_log off; client_max_body_size 0; client_body_temp_path ${d('body')}; proxy_temp_path ${d('proxy')}; fastcgi_temp_path ${d('fcgi')}; uwsgi_temp_path ${d('uwsgi')}; scgi_temp_path ${d('scgi')};
  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; } } }
`);
    const p = start(nginx, ['-c', d('nginx.conf'), '-p', tmp]);
    await waitReady(port, false, p);
    targets.push({ name: 'nginx (proxy_request_buffering on)', port });
  } else console.log('nginx not installed: skipped (apt-get install -y nginx)');

  console.log(`uploads, ${os.cpus().length} CPUs, node ${process.version}; one app worker (one request at a time)`);
  for (const t of targets) for (let i = 0; i < 3; i++) await upload(t.port, 1 << 20);
  for (const mb of sizes) {
    for (const t of targets) {
      const runs: number[] = [];
      for (let i = 0; i < (mb < 100 ? 15 : 3); i++) runs.push(await upload(t.port, mb << 20));
      runs.sort((a, b) => a - b);
      const med = runs[runs.length >> 1]!;
      console.log(`${String(mb).padStart(4)} MB upload  ${t.name.padEnd(36)} ${med.toFixed(1).padStart(6)} ms  (${(mb / (med / 1000)).toFixed(0)} MB/s; ${runs[0]!.toFixed(1)}-${runs.at(-1)!.toFixed(1)} ms)`);
    }
  }
  for (const t of targets) console.log(`${slowClients} slow uploaders  ${t.name.padEnd(36)} ${await slowUploaders(t.port)}`);
}

main()
  .catch((e) => { console.error(e); process.exitCode = 1; })
  .finally(() => { stopAll(); setTimeout(() => fs.rmSync(tmp, { recursive: true, force: true }), 500); });
