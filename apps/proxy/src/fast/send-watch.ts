// nginx's send_timeout for the connections the fast path hands to node:http (plain or TLS: chunked
// uploads, HTTP/1.0, Expect, upgrades): a client that takes none of the bytes waiting for it for
// sendTimeoutMs is cut. node has no such timeout (server.timeout counts the client's reads and
// the app's silence too: it would cut a long poll), so a client that read nothing of a large
// answer held its connection, and the app's request, for good. The fast path's own connections
// are checked by their timer (connection-end.ts). One sweep every few seconds while any is handed
// off; nothing per request.
import type { Socket } from 'node:net';
import { Sweep } from '../sweep.js';

/** A client's progress taking the bytes that wait for it: how many had left for the kernel, since when (0: none waited). */
export interface SendProgress { sent: number; since: number }

/**
 * Call while bytes wait for the client on `s`: notes any it took since the last call, and says
 * whether it took none for `timeoutMs`. Shared with the fast path's timer (connection-end.ts).
 */
export function tookNoneFor(s: Socket, p: SendProgress, now: number, timeoutMs: number): boolean {
  // What has left for the kernel so far: it moves while the client takes bytes.
  const sent = s.bytesWritten - s.writableLength;
  if (p.since === 0 || sent !== p.sent) { p.sent = sent; p.since = now; return false; }
  return now - p.since >= timeoutMs;
}

export class SendWatch {
  // Cuts the connections that took none of their waiting bytes since sendTimeoutMs ago.
  private readonly sweep: Sweep<Socket, SendProgress>;

  constructor(sendTimeoutMs: number) {
    this.sweep = new Sweep(sendTimeoutMs, (s, p, now) => {
      if (s.writableLength === 0) p.since = 0;
      else if (tookNoneFor(s, p, now, sendTimeoutMs)) s.destroy();
    });
  }

  add(s: Socket): void { this.sweep.add(s, { sent: 0, since: 0 }); }
}
