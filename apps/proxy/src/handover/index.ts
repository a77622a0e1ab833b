// Listener handover between an old and a new proxy process in the same network namespace (compose:
// both proxy containers join the `edge` service's namespace). Node 20 has no SO_REUSEPORT, so two
// processes cannot bind one port; instead the old one passes its listening sockets (SCM_RIGHTS,
// fdpass.ts) and no connection is ever refused:
//   new → old  {"v":1,"op":"pass"}       the new one has loaded config and certificates
//   old → new  {"v":1,"op":"passed","ports":[80,443]} + the listening sockets; it keeps accepting
//   new        listens on them too (both accept from the same queue for a moment)
//   new → old  {"v":1,"op":"listening"}  the old one stops accepting, then drains (Connection: close, finish, idle)
// A cluster primary holds the sockets itself and gives its workers copies (primary-sockets.ts), so
// it passes and takes them as a single process does. Where a side cannot pass (no addon; a proxy from
// before "pass", which drops the line), the older exchange runs, with a few milliseconds' gap:
//   new → old  {"v":1,"op":"release"}    old closes its listening sockets (not its connections)
//   old → new  {"v":1,"op":"released"}   new binds at once (retrying briefly while the port is held)
//   new → old  {"v":1,"op":"listening"}  only now does the old one drain
// Without a "listening" in time the old one accepts alone again. A proxy with no predecessor just binds.
// The unix socket lives in the proxy's own data volume (no other container mounts it): dir 0700,
// socket 0600; messages are one short JSON line each, validated, anything else drops the peer.
import path from 'node:path';

export { parseMessage, type HandoverMessage, type HandoverOp } from './protocol.js';
export { listenersOf, type Listeners } from './listeners.js';
export { answerPrimary, forwardToWorkers, gateWorkers, readyToListen, workersListening } from './cluster.js';
export { fdPass, type FdPass } from './fdpass.js';
export { requestHandover, waitPortsFree, type Predecessor } from './successor.js';
export { serveHandover, type Releasable } from './predecessor.js';
export { PrimarySockets } from './primary-sockets.js';

/**
 * `<dataDir>/proxy/handover/<httpPort>.sock`, keyed by port so proxies on other ports sharing a data
 * dir never hand over to each other. null (no handover) for ephemeral ports or a too-long path.
 */
export function handoverPath(dataDir: string, httpPort: number): string | null {
  if (!httpPort) return null;
  const file = path.resolve(dataDir, 'proxy', 'handover', `${httpPort}.sock`);
  return Buffer.byteLength(file) < 100 ? file : null;
}
