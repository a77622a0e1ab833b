// What a listening socket does when the kernel refuses an accept. Node emits it as the server's
// 'error' (net.js onconnection), and with no listener that throws: the whole process goes down
// (every open connection, request and handshake with it) for one client the kernel would not give
// us. libuv already swallows ECONNABORTED and, while it holds its spare descriptor, EMFILE/ENFILE
// (fd-limit.ts); what reaches node is the rest: ENOBUFS/ENOMEM (kernel memory), EPERM (a security
// module or firewall refusing it), the network errors Linux passes on from the new connection, and
// EMFILE/ENFILE once that spare descriptor is gone. The listener keeps the proxy serving: one
// ACCEPT_FAILED warning (operator-warnings.ts), then at most one a minute, an info line once none
// came for a minute; EMFILE/ENFILE feed fd-limit.ts's FD_LIMIT_REACHED instead.
import type net from 'node:net';
import type { Logger } from 'pino';
import { fdErrorCode, type FdLimit } from './fd-limit.js';
import type { ProxyWarningCode } from './operator-warnings.js';

export const ACCEPT_WARNING_EVERY_MS = 60_000;
/**
 * libuv calls accept again at once after a failure, without returning to the event loop: an error
 * that does not clear (nothing can free memory or descriptors meanwhile) repeats for good, with
 * the process serving nothing. After this many in a row it is thrown, as node does with no
 * listener, so the process ends and is restarted (cluster.ts re-forks a worker).
 */
export const ACCEPT_ERRORS_IN_A_ROW = 1000;

const CODE: ProxyWarningCode = 'ACCEPT_FAILED';

export function watchAcceptErrors(server: net.Server, listener: string, log: Logger, fdLimit?: FdLimit, quietMs = ACCEPT_WARNING_EVERY_MS): void {
  let bout: { since: number; lastAt: number; count: number; timer: NodeJS.Timeout } | null = null;
  let lastWarnedAt = -Infinity;
  let inARow = 0;
  const over = () => {
    const b = bout!;
    if (Date.now() - b.lastAt < quietMs) { b.timer = setTimeout(over, quietMs - (Date.now() - b.lastAt)).unref(); return; }
    bout = null;
    log.info({ code: CODE, listener, failed: b.count, ms: b.lastAt - b.since }, 'connections are accepted again');
  };
  server.on('error', (err: NodeJS.ErrnoException) => {
    // listen()/bind() failures are the caller's to report (startProxy, the handover's restore).
    if (err.syscall !== 'accept') return;
    if (++inARow === 1) setImmediate(() => { inARow = 0; });
    if (inARow >= ACCEPT_ERRORS_IN_A_ROW) {
      log.error({ code: CODE, listener, errno: err.code, inARow }, 'accept keeps failing with no pause: stopping this process');
      throw err;
    }
    const fd = fdErrorCode(err);
    if (fd && fdLimit) { fdLimit.acceptFailed(fd); return; }
    const now = Date.now();
    bout ??= { since: now, lastAt: now, count: 0, timer: setTimeout(over, quietMs).unref() };
    bout.lastAt = now;
    bout.count++;
    if (now - lastWarnedAt < ACCEPT_WARNING_EVERY_MS) return;
    lastWarnedAt = now;
    log.warn({ code: CODE, listener, errno: err.code, failed: bout.count, since: new Date(bout.since).toISOString() },
      `the kernel refused to accept a new connection on the ${listener} listener (${err.code}): that client got no answer; the proxy keeps listening. ENOBUFS/ENOMEM: the system is short of memory; EPERM: a firewall or security module refuses it`);
  });
}
