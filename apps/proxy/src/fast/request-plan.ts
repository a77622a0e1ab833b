// What the fast path does with one parsed request: the proxy's own page (decide.ts: health, ACME,
// redirect, no such app), or the request to relay to the app — its upstream head built once, with
// the forwarding fields for this client; null before the first route table, when the decision has
// to wait (decide.ts), and for a body still to come with request buffering on (request-buffer.ts
// reads it whole): the connection goes to node:http, whose handler does either. No I/O.
import type { ProxyContext } from '../context.js';
import { decide } from '../decide.js';
import { upstreamRequestHead } from '../headers.js';
import { buffers } from '../body-policy.js';
import type { Page } from '../pages.js';
import type { ExchangeRequest } from './exchange-types.js';
import type { RequestHead } from './head.js';

/** The client side of the connection the request came on. */
export interface ClientSide { ctx: ProxyContext; proto: 'http' | 'https'; peer: string; port: number }

/** `bodyHere`: bytes read after the head (the body, and maybe requests pipelined after it). */
export function planRequest(c: ClientSide, head: RequestHead, requestId: string, bodyHere: number): { page: Page } | { request: ExchangeRequest } | null {
  const { ctx, proto, peer } = c;
  const d = decide(ctx, head.method, head.target, head.headers.host as string, proto, head.headers, requestId);
  if (d.page) return { page: d.page };
  // Handed to node:http, which decides again and waits (one wait, one place); only before the first table.
  if (d.later) return null;
  if (head.contentLength > bodyHere && buffers(ctx, d.route)) return null;
  const upHead = upstreamRequestHead(head.method, d.path, head.headers, { clientIp: peer, proto, host: d.rawHost, port: c.port, requestId, trusted: ctx.trusted(peer) });
  return {
    request: {
      method: head.method, head: upHead, contentLength: head.contentLength, clientClose: head.close,
      requestId, host: d.host, route: d.route, headers: head.headers,
    },
  };
}
