// The old proxy's side of the handover: answers one successor at a time on the unix socket. Asked to
// "pass" (and able to), it sends its listening sockets and keeps accepting until the successor
// listens on them too — the ports never lack a listener; asked to "release" (or unable to pass), it
// stops accepting first and the successor binds (a few milliseconds without a listener).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { watchAcceptErrors } from '../accept-errors.js';
import { fdOf, type FdPass } from './fdpass.js';
import { encode, readMessages } from './protocol.js';

/** What the old side does with its listeners. */
export interface Releasable {
  /** Stop accepting on the ports (keep serving open connections as usual). */
  release(): Promise<void>;
  /** Listen again: the successor never said it listens. */
  restore(): Promise<void>;
  /** The successor listens: finish in-flight requests, close keep-alive connections, then idle. */
  drain(): void;
  /** The listening sockets to pass (ports and descriptors, in order), or null when there are none to pass. */
  sockets?(): { ports: number[]; fds: number[] } | null;
}

/** The old side: answers one successor's request. close() stops answering. `pass`: the addon, or null (release only). */
export async function serveHandover(file: string, log: Logger, target: Releasable, pass: FdPass | null, confirmTimeoutMs = 30_000): Promise<{ close(): void; readonly server: net.Server | null }> {
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
      let passed = false;
      // The successor went away without saying it listens: accept alone again (after a release: listen again).
      const onGone = () => {
        if (confirmed) return;
        busy = false;
        if (passed) {
          log.warn('handover: the next proxy never said it listens; accepting alone again');
          listen().catch((e) => log.error({ err: (e as Error).message }, 'handover: socket failed'));
          return;
        }
        log.warn('handover: the next proxy never said it listens; listening again');
        target.restore().then(() => listen(), (e) => {
          // Someone else holds the ports now: serving nothing, this process only drains.
          log.error({ err: (e as Error).message }, 'handover: listening again failed; draining');
          target.drain();
        }).catch((e) => log.error({ err: (e as Error).message }, 'handover: socket failed'));
      };
      readMessages(sock, (op) => {
        if ((op === 'release' || op === 'pass') && !busy) {
          busy = true;
          // Closing the server unlinks the socket file, so the successor can create its own.
          server?.close(); server = null;
          sock.once('close', onGone);
          const socks = op === 'pass' && pass ? target.sockets?.() ?? null : null;
          const fd = fdOf(sock);
          if (socks && fd !== null && pass) {
            const text = encode('passed', socks.ports);
            let sent = -1;
            try { sent = pass.send(fd, text, socks.fds); } catch (e) { log.error({ err: (e as Error).message }, 'handover: passing the sockets failed'); }
            if (sent !== Buffer.byteLength(text)) { sock.destroy(); return; }
            passed = true;
            log.info({ ports: socks.ports }, 'handover: passed the listening sockets to the next proxy; accepting until it listens');
            return;
          }
          target.release().then(() => {
            log.info('handover: released the listeners to the next proxy; waiting for it to listen');
            sock.write(encode('released'));
          }, (e) => { log.error({ err: (e as Error).message }, 'handover: release failed'); sock.destroy(); });
        } else if (op === 'listening' && busy && !confirmed) {
          confirmed = true;
          log.info('handover: the next proxy listens; draining');
          // After a pass both processes accepted on the same sockets; only now does this one stop.
          if (passed) void target.release().finally(() => target.drain());
          else target.drain();
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
