// Which servers startProxy listens with (it does not expose them), so the handover can stop them
// accepting and start them again without the drain that the proxy's close() begins.
import net from 'node:net';

export interface Listeners {
  /** Stop accepting; open connections (idle keep-alive ones too) keep being served as usual. */
  release(): Promise<void>;
  /** Listen again on the same addresses (the successor never came up). */
  restore(): Promise<void>;
  /** Hand idle-connection closing back to the proxy's close(), which drains from here. */
  unhold(): void;
}

type Idle = { closeIdleConnections?: () => void };

/**
 * Runs `start` and records the servers it makes listen. `beforeListen` runs once, when `start` first
 * calls listen() (everything else is set up by then), and the actual binds wait for it: that is when
 * the predecessor is asked to release, so the ports are without a listener only for a round trip.
 */
export async function captureListeners<T>(start: () => Promise<T>, beforeListen?: () => Promise<void>): Promise<{ value: T; listeners: Listeners }> {
  const servers: net.Server[] = [];
  const listen = net.Server.prototype.listen;
  let ready: Promise<void> | null = null;
  let inHook = false;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    const bind = () => (listen as (...a: unknown[]) => net.Server).apply(this, args);
    if (inHook) return bind(); // the hook's own port probes
    servers.push(this);
    if (!beforeListen) return bind();
    // listen()'s callback and 'listening'/'error' events fire as usual, just later.
    ready ??= (async () => { inHook = true; try { await beforeListen(); } finally { inHook = false; } })();
    ready.then(bind, (e: Error) => this.emit('error', e));
    return this;
  } as typeof listen;
  let value: T;
  try { value = await start(); } finally { net.Server.prototype.listen = listen; }
  const live = [...new Set(servers)].filter((s) => s.listening);
  const addrs = live.map((s) => s.address() as net.AddressInfo);
  const own = live.map((s) => (s as Idle).closeIdleConnections);
  const unhold = () => live.forEach((s, i) => { if (own[i]) (s as Idle).closeIdleConnections = own[i]; });
  return {
    value,
    listeners: {
      async release() {
        // An http(2) server's close() also cuts idle keep-alive connections, racing clients that are
        // sending their next request on them; hold those until the successor listens.
        for (const s of live) {
          if (!s.listening) continue;
          if ((s as Idle).closeIdleConnections) (s as Idle).closeIdleConnections = () => {};
          s.close();
        }
      },
      async restore() {
        unhold();
        await Promise.all(live.map((s, i) => s.listening ? undefined : new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(addrs[i]!.port, addrs[i]!.address, () => { s.off('error', reject); resolve(); });
        })));
      },
      unhold,
    },
  };
}
