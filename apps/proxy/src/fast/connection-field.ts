// The last field of a final response on the fast path: `connection: close` when we close after it,
// else `keep-alive: timeout=N`, our idle timeout, as node's server says on its keep-alive
// responses. Without it a client keeps an idle connection up to its own timeout (node's
// http.globalAgent: 5 s, the same as ours) and sends its next request as our FIN is on the way: a
// reset it cannot retry when that request is a POST. With it, node's agent retires the connection
// 1 s early, undici at the announced time less its own margin.
import { keepAliveTimeoutValue } from '../pages.js';

export const CLOSE_FIELD = Buffer.from('connection: close\r\n');

const made = new Map<number, Buffer>();

/** `keep-alive: timeout=N\r\n` for an idle timeout of `ms` (one Buffer per value, made once). */
export function keepAliveField(ms: number): Buffer {
  let b = made.get(ms);
  if (!b) made.set(ms, (b = Buffer.from(`keep-alive: ${keepAliveTimeoutValue(ms)}\r\n`)));
  return b;
}
