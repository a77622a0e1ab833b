// nginx (Debian's package) as the same reverse proxy, for comparison: HTTPS + HTTP/2, one worker,
// keep-alive to the app in argv. Prints { httpsPort, ca, pid } (pid: the worker, which does the work).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTestCerts } from '../../../test/integration/proxy-helpers/proxies.js';
import { freePort } from '../procs.js';

const appPort = Number(process.argv[2]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h2-floods-nginx-'));
await makeTestCerts(dir, ['rr.dream']);
const port = await freePort();
fs.writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log info;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server 127.0.0.1:${appPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${dir}/leaf.pem; ssl_certificate_key ${dir}/leaf.key;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}`);
const nginx = spawn('nginx', ['-g', 'daemon off;', '-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'inherit' });
let worker = 0;
for (let i = 0; i < 100 && !worker; i++) {
  await new Promise((r) => setTimeout(r, 50));
  try {
    const master = Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8'));
    worker = Number(fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]) || 0;
  } catch { /* not up yet */ }
}
console.log(JSON.stringify({ httpsPort: port, ca: path.join(dir, 'ca.pem'), pid: worker, log: path.join(dir, 'error.log') }));
process.on('SIGTERM', () => { nginx.kill(); nginx.once('exit', () => process.exit(0)); });
