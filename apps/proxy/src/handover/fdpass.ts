// The native half of the handover's descriptor passing (native/fdpass.c, built by `npm install`
// through apps/proxy/binding.gyp). Node cannot send a listening socket to a process it did not
// fork; with this the old proxy gives the new one its listening sockets instead of closing them,
// so the ports never have no listener. Absent (not built: no compiler where npm ran), the handover
// falls back to release-then-bind (a gap of a few milliseconds): the proxy itself works the same.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type net from 'node:net';

export interface FdPass {
  /** One sendmsg of `text` with `fds` attached; returns the bytes sent. */
  send(sockFd: number, text: string, fds: number[]): number;
  /** One non-blocking recvmsg: null when nothing arrived yet; text "" at end of stream. */
  recv(sockFd: number): { text: string; fds: number[] } | null;
  /** A close-on-exec copy of a descriptor. */
  dup(fd: number): number;
}

let loaded: FdPass | null | undefined;

/** The addon, or null when it was not built. */
export function fdPass(): FdPass | null {
  if (loaded !== undefined) return loaded;
  // A computed path: the image's bundler must not try to inline a binary.
  const file = fileURLToPath(new URL(['..', '..', 'build', 'Release', 'fdpass.node'].join('/'), import.meta.url));
  try { loaded = createRequire(import.meta.url)(file) as FdPass; } catch { loaded = null; }
  return loaded;
}

/** The OS descriptor of a node socket or listening server (libuv keeps it; node does not document it). */
export function fdOf(s: net.Socket | net.Server): number | null {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
