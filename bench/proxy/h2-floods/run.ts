// HTTP/2 floods against the proxy (or nginx), measured from outside:
//   npx tsx bench/proxy/h2-floods/run.ts [--target ours|nginx] [--seconds 10] [--reconnect]
//     [--kind rapid-reset|continuation|myr-window-update|myr-data-closed|myr-content-length|
//       reset-after-response|ping|settings|priority|empty-data|window-update|window-update-stream] [--src DIR]
// Processes: the app (app.mjs), the proxy (ours.ts / nginx.ts), the attacker (attack.ts); this one
// samples the proxy's CPU and RSS and runs a well-behaved HTTP/2 client (a request every 50 ms on its
// own connection; the app holds each 100 ms). One line a second, then a summary.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import readline from 'node:readline';
import { arg } from '../procs.js';

const here = import.meta.dirname;
const root = path.resolve(here, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const target = arg('target', 'ours');
const seconds = Number(arg('seconds', '10'));
const pass = process.argv.slice(2).filter((a, i, all) => a === '--reconnect' || ['--kind', '--seconds'].includes(a) || ['--kind', '--seconds'].includes(all[i - 1]!));

const kids: ChildProcess[] = [];
function child(cmd: string, args: string[], onLine: (l: string) => void): Promise<Record<string, unknown>> {
  const c = spawn(cmd, args, { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] });
  kids.push(c);
  return new Promise((resolve) => {
    let first = true;
    readline.createInterface({ input: c.stdout! }).on('line', (l) => { if (first) { first = false; resolve(JSON.parse(l)); } onLine(l); });
  });
}
const stop = () => { for (const k of kids) k.kill(); };

let app: Record<string, number> = {}; // the app's last report (its first line is its port)
const { port: appPort } = await child('node', ['app.mjs'], (l) => { app = JSON.parse(l); });
const srcAt = process.argv.indexOf('--src');
const proxyArgs = target === 'nginx' ? ['nginx.ts', String(appPort)] : ['ours.ts', String(appPort), ...(srcAt > 0 ? ['--src', process.argv[srcAt + 1]!] : [])];
const { httpsPort, ca, pid } = await child(tsx, proxyArgs, () => {}) as { httpsPort: number; ca: string; pid: number };

const HZ = 100; // USER_HZ
const stat = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpu: (Number(f[11]) + Number(f[12])) / HZ, rssMB: Math.round(rss / 1024) };
};

const good = http2.connect(`https://127.0.0.1:${httpsPort}`, { ca: fs.readFileSync(ca), servername: 'rr.dream' }).on('error', () => {});
const latencies: number[] = [];
let goodFailed = 0;
const goodTimer = setInterval(() => {
  const t = performance.now();
  const st = good.request({ ':path': '/good', ':authority': 'rr.dream' });
  let status = 0;
  st.on('response', (h) => { status = Number(h[':status']); });
  st.on('error', () => { goodFailed++; });
  st.on('end', () => { if (status === 200) latencies.push(performance.now() - t); else goodFailed++; });
  st.resume();
  st.end();
}, 50);
await new Promise((r) => setTimeout(r, 1500));

const base = stat();
let attackEnd = '';
const attackDone = child(tsx, ['attack.ts', String(httpsPort), ca, ...pass], (l) => { console.log('attack', l); attackEnd = l; });
const t0 = Date.now();
let prev = base;
let from = 0;
let rssMax = base.rssMB;
const sampler = setInterval(() => {
  const s = stat();
  const l = latencies.slice(from).sort((a, b) => a - b);
  from = latencies.length;
  rssMax = Math.max(rssMax, s.rssMB);
  console.log(JSON.stringify({ s: Math.round((Date.now() - t0) / 1000), appRequests: app.got, appMostOpen: app.most, appConnsMost: app.mostConns,
    proxyCpuS: +(s.cpu - prev.cpu).toFixed(2), rssMB: s.rssMB, goodAnswered: l.length, goodP50ms: Math.round(l[l.length >> 1] ?? NaN), goodMaxMs: Math.round(l.at(-1) ?? NaN), goodFailed }));
  prev = s;
}, 1000);
await attackDone;
await new Promise((r) => kids.at(-1)!.once('exit', r));
await new Promise((r) => setTimeout(r, 1500));
clearInterval(sampler);
clearInterval(goodTimer);
console.log('summary', JSON.stringify({ target, seconds, attack: attackEnd && JSON.parse(attackEnd), appRequestsTotal: app.total, proxyCpuS: +(stat().cpu - base.cpu).toFixed(2), rssBeforeMB: base.rssMB, rssMaxMB: rssMax, goodAnswered: latencies.length, goodFailed }));
good.destroy();
stop();
process.exit(0);
