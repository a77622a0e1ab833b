// The proxy under measurement, started as the integration tests start it (startCertificates with the
// built-in .dream CA and the .dream DNS, then startProxy polling the api given in argv), in its own
// process so that its event loop is measured alone. Prints one JSON line once listening; then on
// each stdin line: "mark" starts a window (event-loop delay histogram + CPU), "report" prints it.
//   node_modules/.bin/tsx bench/proxy/scale/proxy.ts <apiUrl> <dataDir> [--src DIR]
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';

const [apiUrl, dataDir] = process.argv.slice(2);
const srcAt = process.argv.indexOf('--src');
const src = srcAt > 0 ? path.resolve(process.argv[srcAt + 1]!) : path.resolve(import.meta.dirname, '../../..');
const { startProxy } = await import(path.join(src, 'apps/proxy/src/index.ts')) as typeof import('../../../apps/proxy/src/index.js');
const { startCertificates } = await import(path.join(src, 'apps/proxy/src/tls/start.ts')) as typeof import('../../../apps/proxy/src/tls/start.js');

const config = loadConfig({
  DREAM_DATA_DIR: dataDir!, DREAM_API_URL: apiUrl!, DREAM_LOG_LEVEL: 'silent', DREAM_DREAM_ACME_DIRECTORY: '',
  DREAM_DNS_HOST: '127.0.0.1', DREAM_DNS_PORT: '0', DREAM_EDGE_ADDRESS: '127.0.0.1',
});
// No public CA: custom domains are served over plain HTTP and never ordered (the .dream ones are).
(config as { acmeDirectory: string }).acmeDirectory = '';
const log = pino({ level: 'silent' });
// DNS port 0 is "off" in settings; the bench wants one, so it asks for a free port itself.
const certsStack = await startCertificates({ config: { ...config, dnsPort: Number(process.env.BENCH_DNS_PORT ?? 0) }, log, token: 'int_bench', proxyId: 'bench' });
const proxy = await startProxy({ config, token: 'int_bench', log, port: 0, host: '127.0.0.1', certs: certsStack.certs, httpsPort: 0, pollWaitSeconds: 25, accessLog: null, proxyId: 'bench' });

const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
let cpu0 = process.cpuUsage();
let t0 = performance.now();
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l === 'mark') { eld.reset(); cpu0 = process.cpuUsage(); t0 = performance.now(); console.log(JSON.stringify({ marked: true })); return; }
  if (l === 'report') {
    const c = process.cpuUsage(cpu0);
    const st = certsStack.certs.status();
    console.log(JSON.stringify({
      wallMs: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000),
      eldMaxMs: Math.round(eld.max / 1e6), eldP99Ms: Math.round(eld.percentile(99) / 1e6),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), version: proxy.table.version,
      certs: st.length, issued: st.filter((s) => s.state === 'issued').length,
    }));
  }
});
const ca = path.join(dataDir!, 'bench-root.pem');
fs.writeFileSync(ca, certsStack.ca!.rootPem);
console.log(JSON.stringify({ port: proxy.port, httpsPort: proxy.httpsPort, dnsPort: certsStack.dns?.port, pid: process.pid, ca }));
process.on('SIGTERM', async () => { process.exit(0); });
