// Which client an auth failure counts against (auth/limiter.ts). An IPv6 subscriber is routed a
// whole /64 (RFC 6177) and may send from any of its 2^64 addresses, so counting per address let one
// client rotate its source and never be limited: the /64 is the client, as fail2ban, nginx
// limit_req and Cloudflare treat it. A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d: that
// is the IPv4 client. IPv4 counts per address. Pure.
import net from 'node:net';

/** `ip` is req.ip: the TCP peer, or the client a trusted proxy forwarded (DREAM_TRUSTED_PROXIES). */
export function clientKey(ip: string): string {
  const zone = ip.indexOf('%'); // link-local fe80::1%eth0: the zone names our interface, not the client
  const addr = zone < 0 ? ip : ip.slice(0, zone);
  if (net.isIPv4(addr)) return addr;
  // Not an address at all (a trusted proxy forwarded something odd): counted as the string it is.
  if (!net.isIPv6(addr)) return ip;
  const h = hextets(addr);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return `${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}`;
  return `${h.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address ("::" expanded, a dotted IPv4 tail as two groups). */
function hextets(addr: string): number[] {
  let s = addr;
  const tail: number[] = [];
  const last = s.lastIndexOf(':');
  if (s.includes('.', last)) {
    const [a, b, c, d] = s.slice(last + 1).split('.').map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    s = s.slice(0, s.endsWith('::', last + 1) ? last + 1 : last); // "::ffff:1.2.3.4" → "::ffff", "::1.2.3.4" → "::"
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const groups = (part: string) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = new Array<number>(8 - tail.length - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right, ...tail];
}
