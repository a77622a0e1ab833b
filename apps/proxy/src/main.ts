// The proxy process: config → internal token → listen; SIGTERM/SIGINT close cleanly. With more than
// one worker (DREAM_PROXY_WORKERS, 0 = one per core) this process supervises workers that each run
// the whole proxy (cluster.ts); with one it is the proxy itself.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import { Server as TlsServer } from 'node:tls';
import { ConfigError, internalToken, loadConfig, type Config } from '@dreamnet/core';
import { pino } from 'pino';
import { stdoutAccessLog } from './access-log.js';
import { reportListening, STARTUP_EXIT_CODE, superviseWorkers } from './cluster.js';
import { withDefaultCertificate } from './default-cert.js';
import { answerPrimary, fdPass, listenersOf, forwardToWorkers, gateWorkers, handoverPath, PrimarySockets, readyToListen, requestHandover, serveHandover, waitPortsFree, workersListening, type FdPass, type Predecessor } from './handover/index.js';
import { newProxyId } from './routes/source.js';
import { startProxy } from './server.js';
import { stopSignals } from './stop-signals.js';
import { checkSettingFiles, readDefaultCertificate } from './setting-files.js';
import { ProxyStartupError, type ProxyStartupErrorCode } from './startup-errors.js';
import { BuiltinCa } from './tls/ca.js';
import { startCertificates } from './tls/start.js';
import { TlsStorage } from './tls/storage.js';
import { followPrimaryTicketKeys, rotateTicketKeys, shareTicketKeys } from './tls/ticket-keys.js';
import { NO_CERTIFICATES, type CertificateSource } from './tls/types.js';

/** A setting it cannot use (ConfigError names it and why) ends it like any start-up error: one fatal line, exit 2. */
function settings(): Config {
  try { return loadConfig(); } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    pino({ name: 'proxy' }).fatal({ code: 'SETTING_INVALID' satisfies ProxyStartupErrorCode }, e.message);
    process.exit(STARTUP_EXIT_CODE);
  }
}

const config = settings();
const log = pino({ level: config.logLevel, name: 'proxy' });
const workers = config.proxyWorkers || os.availableParallelism();
// A new proxy takes the ports over from one still serving them (another container in the same
// network namespace), without a moment where connections are refused: handover/index.ts.
const handoverFile = handoverPath(config.dataDir, config.httpPort);

/** What only the operator can fix ends the process with its sentence, not a stack trace. */
function fatal(e: unknown): never {
  if (!(e instanceof ProxyStartupError)) throw e;
  log.fatal({ code: e.code }, e.message);
  process.exit(STARTUP_EXIT_CODE);
}

/**
 * Asks a running predecessor for its listening sockets (`pass`: the addon) or to release the ports;
 * resolves once the ports are ours: passed sockets, or free to bind.
 */
async function takeOver(pass: FdPass | null): Promise<{ pred: Predecessor; since: number } | null> {
  const pred = handoverFile ? await requestHandover(handoverFile, log, pass) : null;
  if (!pred) return null;
  const since = Date.now();
  await waitPortsFree([config.httpPort, config.httpsPort].filter((p) => p > 0 && !pred.fds.has(p)), config.httpHost);
  return { pred, since };
}

/**
 * The handover's log line: a port listening on a passed socket never lacked a listener; a released
 * one did, for gapMs. `passed`: the ports that listen on a passed socket (not one bound instead).
 */
function tookOver(prior: { pred: Predecessor; since: number }, passed: number[], at: number): void {
  log.info({ gapMs: prior.pred.fds.size ? 0 : at - prior.since, passed }, 'handover: took over the listeners');
}

/** After a handover the old process drains, then idles until stopped: exiting would make Docker restart it. */
function idleAfter(drain: Promise<void>): void {
  setInterval(() => {}, 1 << 30);
  drain.then(() => log.info('handover: drained; idle until this container is stopped'), (err) => log.error({ err }, 'drain failed'));
}


async function runProxy(): Promise<void> {
  const onStop = stopSignals(log);
  const access = config.accessLog === 'on' ? stdoutAccessLog(log) : null;
  const token = internalToken(config);
  const proxyId = newProxyId();
  // Certificates live in the data dir (tls/storage.ts): serving them never depends on the api.
  const tls = config.httpsPort !== 0 ? await startCertificates({ config, log, token, proxyId }) : null;
  let certs: CertificateSource = tls?.certs ?? NO_CERTIFICATES;
  const pem = config.httpsPort !== 0 ? readDefaultCertificate(config) : null;
  if (pem) certs = withDefaultCertificate(certs, pem);
  // The predecessor is asked to release when startProxy is about to bind (routes and servers ready).
  let prior = null as Awaited<ReturnType<typeof takeOver>>;
  const proxy = await startProxy({
    config, token, log, certs, proxyId, accessLog: access?.log ?? null,
    beforeListen: async () => {
      if (cluster.isWorker) return readyToListen();
      prior = await takeOver(fdPass());
      return prior?.pred.fds;
    },
  });
  const listeners = listenersOf(proxy.servers);
  // Session tickets any worker can open, this one's or the one a reload replaced: tls/ticket-keys.ts.
  const tlsServers = proxy.servers.filter((s): s is TlsServer => s instanceof TlsServer);
  const tickets = tlsServers.length === 0 ? null : cluster.isWorker ? followPrimaryTicketKeys(process, tlsServers) : rotateTicketKeys(tlsServers);
  if (prior) { prior.pred.confirm(); tookOver(prior, proxy.passedPorts, Date.now()); }
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (async () => {
    handover?.close(); listeners.unhold(); tickets?.stop();
    await proxy.close(); await tls?.close(); access?.flush();
  })());
  const handover = cluster.isPrimary && handoverFile
    ? await serveHandover(handoverFile, log, { ...listeners, drain: () => idleAfter(stop()) }, fdPass())
    : null;
  if (cluster.isWorker) {
    // The primary is gone (killed -9): do not linger as an orphan holding the ports.
    process.on('disconnect', () => { void stop().finally(() => process.exit(0)); });
    answerPrimary(listeners);
  }
  onStop(stop);
  // Every listener listens now: the primary may retire the worker this one replaces (SIGHUP).
  if (cluster.isWorker) reportListening(proxy.servers.map((s) => (s.address() as { port: number }).port));
}

if (workers > 1 && cluster.isPrimary) {
  // The token file is created here once, not raced by every worker.
  internalToken(config);
  // So is the .dream root; one the operator must mend stops here, not in workers re-forked forever.
  if (config.httpsPort !== 0 && !config.dreamAcmeDirectory) await BuiltinCa.open(new TlsStorage(config.dataDir)).catch(fatal);
  try { checkSettingFiles(config); } catch (e) { fatal(e); }
  // The first worker ready to listen triggers the takeover; the predecessor drains once one listens,
  // and only then does this primary answer a successor of its own.
  let handover: { close(): void } | null = null;
  // With the addon this primary holds the listening sockets (taken from the predecessor or bound
  // here) and gives each worker a copy, so that it can pass them on to a successor in turn.
  const pass = fdPass();
  const held = pass ? new PrimarySockets(pass, config.httpHost) : null;
  const ports = [config.httpPort, config.httpsPort].filter((p) => p > 0);
  const copies = held ? (w: Worker) => held.copies(w.id) : undefined;
  held?.lent.follow(cluster);
  gateWorkers(() => takeOver(pass).then(async (prior) => {
    const passed = held ? await held.adopt(prior?.pred.fds ?? new Map()) : [];
    await held?.bind(ports);
    void workersListening(config.httpPort, config.proxyWorkerStartTimeoutMs).then(async (at) => {
      if (prior) { prior.pred.confirm(); tookOver(prior, passed, at); }
      if (handoverFile) {
        handover = await serveHandover(handoverFile, log, {
          release: async () => { await forwardToWorkers('release'); held?.closeAll(); },
          restore: async () => { await held?.bind(ports); await forwardToWorkers('restore', undefined, copies); },
          sockets: () => held?.sockets() ?? null,
          drain: () => idleAfter(sup.stop('SIGTERM')),
        }, pass);
      }
    }).catch((err) => log.error({ err }, 'handover: no worker listens'));
  }), copies);
  // One set of TLS session ticket keys for every worker, handed out when a worker asks.
  if (config.httpsPort !== 0) shareTicketKeys(cluster);
  const sup = superviseWorkers(workers, log, { startTimeoutMs: config.proxyWorkerStartTimeoutMs });
  stopSignals(log)((sig) => { handover?.close(); return sup.stop(sig); });
  // A worker stopped by a start-up error (its fatal line says why): stop like a single process does.
  void sup.failed.then((code) => { handover?.close(); process.exit(code); });
  // SIGHUP: replace the workers without closing the listening sockets (zero-downtime restart).
  process.on('SIGHUP', () => void sup.reload().catch((err) => log.error({ err }, 'reload failed')));
} else {
  // A single process cannot hand its sockets over; SIGHUP must not kill it (its default action).
  process.on('SIGHUP', () => log.warn('SIGHUP ignored: a zero-downtime reload needs DREAM_PROXY_WORKERS of 2 or more'));
  await runProxy().catch(fatal);
}
