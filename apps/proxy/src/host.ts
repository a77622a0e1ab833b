// Host header → the name routes are keyed by. Pure.

// RFC 1123 labels plus "_" (seen in the wild); bracketed IPv6 literals are kept as-is.
const NAME = /^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/**
 * Lowercases, strips the port and one trailing dot. Returns null when the header is missing or
 * not a plausible host name (so a garbage Host never reaches a lookup, a log line or a page).
 */
export function normalizeHost(header: string | undefined | null): string | null {
  if (!header) return null;
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return null;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    h = h.slice(0, end + 1);
    return IPV6.test(h) ? h : null;
  }
  const colon = h.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(h.slice(colon + 1))) return null;
    h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.length > 253) return null;
  return NAME.test(h) ? h : null;
}

/**
 * The request target in origin-form plus the host to route by. An absolute-form target
 * (`GET http://a.dream/x`) carries the authority, which wins over Host (RFC 9112 §3.2.2).
 * Returns null for targets we do not forward (`*`, authority-form, garbage).
 */
export function requestTarget(url: string | undefined, hostHeader: string | undefined): { path: string; host: string } | null {
  if (!url) return null;
  if (url.startsWith('/')) return { path: url, host: hostHeader ?? '' };
  const m = /^https?:\/\/([^/?#]+)([^#]*)/i.exec(url);
  if (!m) return null;
  const rest = m[2] ?? '';
  return { path: rest.startsWith('/') ? rest : `/${rest}`, host: m[1]! };
}

/**
 * The Host a node:http request names: its Host field, or HTTP/2's :authority. Undefined when the
 * Host field is repeated — RFC 9112 §3.2 requires a 400, and node keeps the first silently, so the
 * proxy and an app reading raw headers could disagree on which site was asked for.
 */
export function hostOf(req: { headers: Record<string, string | string[] | undefined>; rawHeaders: string[] }): string | undefined {
  let seen = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!;
    if (k.length === 4 && k.toLowerCase() === 'host' && ++seen > 1) return undefined;
  }
  return (req.headers.host ?? req.headers[':authority']) as string | undefined;
}
