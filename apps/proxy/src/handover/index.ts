// Listener handover between an old and a new proxy process in the same network namespace (compose:
// both proxy containers join the `edge` service's namespace). Node 20 has no SO_REUSEPORT, so two
// processes cannot listen on one port at once; instead the gap is cut to a few milliseconds and no
// connection the old process accepted is lost:
//   new → old  {"v":1,"op":"release"}    the new one has loaded config and certificates
//   old        closes its listening sockets (not its connections: they keep being served normally)
//   old → new  {"v":1,"op":"released"}
//   new        binds at once (retrying briefly while the port is still held)
//   new → old  {"v":1,"op":"listening"}  only now does the old one drain (Connection: close, finish, idle)
// Without a "listening" in time the old one listens again. A proxy with no predecessor just binds.
// The unix socket lives in the proxy's own data volume (no other container mounts it): dir 0700,
// socket 0600; messages are one short JSON line each, validated, anything else drops the peer.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { watchAcceptErrors } from '../accept-errors.js';
import { encode, readMessages } from './protocol.js';

export { parseMessage, type HandoverOp } from './protocol.js';
export { listenersOf, type Listeners } from './listeners.js';
export { answerPrimary, forwardToWorkers, gateWorkers, readyToListen, workersListening } from './cluster.js';

/**
 * `<dataDir>/proxy/handover/<httpPort>.sock`, keyed by port so proxies on other ports sharing a data
 * dir never hand over to each other. null (no handover) for ephemeral ports or a too-long path.
 */
export function handoverPath(dataDir: string, httpPort: number): string | null {
  if (!httpPort) return null;
  const file = path.resolve(dataDir, 'proxy', 'handover', `${httpPort}.sock`);
  return Buffer.byteLength(file) < 100 ? file : null;
}

export interface Predecessor {
  /** Tells the old proxy that we listen; it starts draining. */
  confirm(): void;
}

/**
 * The new side: asks a running predecessor to let go of the ports and resolves once it did (then
 * bind at once), or with null when there is none (or it does not answer in time).
 */
export function requestRelease(file: string, log: Logger, timeoutMs = 10_000): Promise<Predecessor | null> {
  return new Promise((resolve) => {
    const sock = net.connect(file);
    let done = false;
    const finish = (p: Predecessor | null) => { if (!done) { done = true; clearTimeout(timer); resolve(p); } };
    const timer = setTimeout(() => { log.warn('handover: the previous proxy did not release in time; binding anyway'); sock.destroy(); finish(null); }, timeoutMs);
    sock.on('connect', () => sock.write(encode('release')));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // ECONNREFUSED: a socket file left by a proxy that was killed; the next proxy re-creates it.
      if (e.code === 'ECONNREFUSED') fs.rmSync(file, { force: true });
      if (e.code !== 'ENOENT' && e.code !== 'ECONNREFUSED') log.warn({ err: e.code ?? e.message }, 'handover: cannot reach the previous proxy');
      finish(null);
    });
    sock.on('close', () => finish(null));
    readMessages(sock, (op) => {
      if (op !== 'released') { sock.destroy(); return; }
      log.info('handover: the previous proxy released the listeners');
      finish({ confirm: () => { sock.end(encode('listening')); } });
    });
  });
}

/** Resolves once every port can be bound on `host` (a released port may take a moment to free). */
export async function waitPortsFree(ports: number[], host: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    for (;;) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const probe = net.createServer();
        probe.once('error', (e) => resolve(e));
        probe.listen(port, host, () => probe.close(() => resolve(null)));
      });
      if (!err) break;
      if (err.code !== 'EADDRINUSE' || Date.now() > deadline) return; // startProxy reports it
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** What the old side does with its listeners. */
export interface Releasable {
  /** Stop accepting on the ports (keep serving open connections as usual). */
  release(): Promise<void>;
  /** Listen again: the successor never said it listens. */
  restore(): Promise<void>;
  /** The successor listens: finish in-flight requests, close keep-alive connections, then idle. */
  drain(): void;
}

/** The old side: answers one successor's release request. close() stops answering. */
export async function serveHandover(file: string, log: Logger, target: Releasable, confirmTimeoutMs = 30_000): Promise<{ close(): void; readonly server: net.Server | null }> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  let server: net.Server | null = null;
  let busy = false;
  const listen = async () => {
    fs.rmSync(file, { force: true });
    const s = net.createServer((sock) => {
      if (busy) { sock.destroy(); return; }
      sock.setTimeout(confirmTimeoutMs, () => sock.destroy());
      let confirmed = false;
      readMessages(sock, (op) => {
        if (op === 'release' && !busy) {
          busy = true;
          // Closing the server unlinks the socket file, so the successor can create its own.
          server?.close(); server = null;
          target.release().then(() => {
            log.info('handover: released the listeners to the next proxy; waiting for it to listen');
            sock.write(encode('released'));
          }, (e) => { log.error({ err: (e as Error).message }, 'handover: release failed'); sock.destroy(); });
          sock.once('close', () => {
            if (confirmed) return;
            log.warn('handover: the next proxy never said it listens; listening again');
            busy = false;
            target.restore().then(() => listen(), (e) => {
              // Someone else holds the ports now: serving nothing, this process only drains.
              log.error({ err: (e as Error).message }, 'handover: listening again failed; draining');
              target.drain();
            }).catch((e) => log.error({ err: (e as Error).message }, 'handover: socket failed'));
          });
        } else if (op === 'listening' && busy && !confirmed) {
          confirmed = true;
          log.info('handover: the next proxy listens; draining');
          target.drain();
        } else {
          sock.destroy();
        }
      });
    });
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(file, () => { s.off('error', reject); resolve(); }); });
    watchAcceptErrors(s, 'handover', log);
    fs.chmodSync(file, 0o600);
    server = s;
  };
  await listen();
  // `server`: the unix socket listening now (none while a successor is being answered).
  return { close() { server?.close(); server = null; }, get server() { return server; } };
}
