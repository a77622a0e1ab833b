// What a listening socket does when the kernel refuses an accept. Node emits it as the server's
// 'error' (net.js onconnection), and with no listener that throws: the whole process goes down
// (every open connection, request and handshake with it) for one client the kernel would not give
// us. libuv already swallows ECONNABORTED and, while it holds its spare descriptor, EMFILE/ENFILE
// (fd-limit.ts); what reaches node is the rest: ENOBUFS/ENOMEM (kernel memory), EPERM (a security
// module or firewall refusing it), the network errors Linux passes on from the new connection, and
// EMFILE/ENFILE once that spare descriptor is gone. The listener keeps the proxy serving: one
// ACCEPT_FAILED warning (operator-warnings.ts), then at most one a minute, an info line once none
// came for a minute (rare-warning.ts); EMFILE/ENFILE feed fd-limit.ts's FD_LIMIT_REACHED instead.
// The `.dream` DNS server's TCP listener (dns/server.ts) is watched the same way.
import type net from 'node:net';
import type { Logger } from 'pino';
import { fdErrorCode, type FdLimit } from './fd-limit.js';
import type { ProxyWarningCode } from './operator-warnings.js';
import { rareWarning, WARNING_EVERY_MS } from './rare-warning.js';

/**
 * libuv calls accept again at once after a failure, without returning to the event loop: an error
 * that does not clear (nothing can free memory or descriptors meanwhile) repeats for good, with
 * the process serving nothing. After this many in a row it is thrown, as node does with no
 * listener, so the process ends and is restarted (cluster.ts re-forks a worker).
 */
export const ACCEPT_ERRORS_IN_A_ROW = 1000;

const CODE: ProxyWarningCode = 'ACCEPT_FAILED';

export function watchAcceptErrors(server: net.Server, listener: string, log: Logger, fdLimit?: FdLimit, quietMs = WARNING_EVERY_MS): void {
  const warn = rareWarning(log, CODE, { listener }, 'connections are accepted again', quietMs);
  let inARow = 0;
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
    warn({ errno: err.code },
      `the kernel refused to accept a new connection on the ${listener} listener (${err.code}): that client got no answer; the proxy keeps listening. ENOBUFS/ENOMEM: the system is short of memory; EPERM: a firewall or security module refuses it`);
  });
}
