// Stop/start accepting on the proxy's listening servers (ProxyHandle.servers) without the drain
// that the proxy's close() begins: the handover's release and restore.
import type net from 'node:net';
import { fdOf } from './fdpass.js';

export interface Listeners {
  /** Stop accepting; open connections (idle keep-alive ones too) keep being served as usual. */
  release(): Promise<void>;
  /** Listen again on the same addresses (the successor never came up); on `fds` (port → descriptor) where given. */
  restore(fds?: ReadonlyMap<number, number>): Promise<void>;
  /** Hand idle-connection closing back to the proxy's close(), which drains from here. */
  unhold(): void;
  /** The listening sockets (ports and descriptors, in order) a successor may take, or null when there are none. */
  sockets(): { ports: number[]; fds: number[] } | null;
}

type Idle = { closeIdleConnections?: () => void };

export function listenersOf(servers: readonly net.Server[]): Listeners {
  const live = servers.filter((s) => s.listening);
  const addrs = live.map((s) => s.address() as net.AddressInfo);
  const own = live.map((s) => (s as Idle).closeIdleConnections);
  const unhold = () => live.forEach((s, i) => { if (own[i]) (s as Idle).closeIdleConnections = own[i]; });
  return {
    async release() {
      // An http(2) server's close() also cuts idle keep-alive connections, racing clients that are
      // sending their next request on them; hold those until the successor listens.
      for (const s of live) {
        if (!s.listening) continue;
        if ((s as Idle).closeIdleConnections) (s as Idle).closeIdleConnections = () => {};
        s.close();
      }
    },
    async restore(fds) {
      unhold();
      await Promise.all(live.map((s, i) => s.listening ? undefined : new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        const done = () => { s.off('error', reject); resolve(); };
        const fd = fds?.get(addrs[i]!.port);
        if (fd === undefined) s.listen(addrs[i]!.port, addrs[i]!.address, done); else s.listen({ fd }, done);
      })));
    },
    unhold,
    sockets() {
      const open = live.filter((s) => s.listening && fdOf(s) !== null);
      if (open.length === 0) return null;
      return { ports: open.map((s) => (s.address() as net.AddressInfo).port), fds: open.map((s) => fdOf(s)!) };
    },
  };
}
