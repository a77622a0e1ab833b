// The proxy process: config → internal token → listen; SIGTERM/SIGINT close cleanly. With more than
// one worker (DREAM_PROXY_WORKERS, 0 = one per core) this process supervises workers that each run
// the whole proxy (cluster.ts); with one it is the proxy itself.
import cluster from 'node:cluster';
import os from 'node:os';
import { internalToken, loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { stdoutAccessLog } from './access-log.js';
import { superviseWorkers } from './cluster.js';
import { loadDefaultCertificate, withDefaultCertificate } from './default-cert.js';
import { newProxyId } from './routes-source.js';
import { startProxy } from './server.js';
import { startCertificates } from './tls/start.js';
import { NO_CERTIFICATES, type CertificateSource } from './tls/types.js';

const config = loadConfig();
const log = pino({ level: config.logLevel, name: 'proxy' });
const workers = config.proxyWorkers || os.availableParallelism();

function onStop(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'stopping');
      stop(sig).then(() => process.exit(0), (e) => { log.error({ err: e }, 'close failed'); process.exit(1); });
    });
  }
}

async function runProxy(): Promise<void> {
  const access = config.accessLog === 'on' ? stdoutAccessLog() : null;
  const token = internalToken(config);
  const proxyId = newProxyId();
  // Certificates live in the data dir (tls/storage.ts): serving them never depends on the api.
  const tls = config.httpsPort !== 0 ? await startCertificates({ config, log, token, proxyId }) : null;
  let certs: CertificateSource = tls?.certs ?? NO_CERTIFICATES;
  if (config.tlsCertFile && config.tlsKeyFile) certs = withDefaultCertificate(certs, loadDefaultCertificate(config.tlsCertFile, config.tlsKeyFile));
  const proxy = await startProxy({ config, token, log, certs, proxyId, accessLog: access?.log ?? null });
  const stop = async () => { await proxy.close(); await tls?.close(); access?.flush(); };
  if (cluster.isWorker) {
    // The primary is gone (killed -9): do not linger as an orphan holding the ports.
    process.on('disconnect', () => { void stop().finally(() => process.exit(0)); });
  }
  onStop(stop);
}

if (workers > 1 && cluster.isPrimary) {
  // The token file is created here once, not raced by every worker.
  internalToken(config);
  const sup = superviseWorkers(workers, log);
  onStop((sig) => sup.stop(sig));
  // SIGHUP: replace the workers without closing the listening sockets (zero-downtime restart).
  process.on('SIGHUP', () => void sup.reload().catch((err) => log.error({ err }, 'reload failed')));
} else {
  // A single process cannot hand its sockets over; SIGHUP must not kill it (its default action).
  process.on('SIGHUP', () => log.warn('SIGHUP ignored: a zero-downtime reload needs DREAM_PROXY_WORKERS of 2 or more'));
  await runProxy();
}
