// The grammar of the settings that list IP addresses (DREAM_EDGE_ADDRESS) or addresses and CIDR
// ranges (DREAM_TRUSTED_PROXIES), strict so that a typo stops start-up instead of changing what is
// served or trusted: "10.0.0.0/" read as /0 trusted every IPv4 client, and "fe80::1%eth0" was
// published in AAAA records as fe80::fe10. Pure.
import net from 'node:net';

export interface Cidr { address: string; prefix: number; family: 'ipv4' | 'ipv6' }

/** Why `entry` is not a plain IP address (no brackets, port or zone), or null when it is one. */
function addressProblem(entry: string): string | null {
  if (entry.includes('%')) return 'a zone id (%…) cannot be used here: peers and DNS records carry none';
  if (entry.startsWith('[')) return 'write an IPv6 address without brackets';
  return net.isIP(entry) ? null : 'not an IPv4 or IPv6 address';
}

const entriesOf = (list: string): string[] => list.split(',').map((s) => s.trim()).filter(Boolean);

/** "192.0.2.1, 2001:db8::1" → the addresses; throws an Error saying which entry is wrong and why. */
export function parseAddressList(list: string): string[] {
  return entriesOf(list).map((e) => {
    const why = addressProblem(e);
    if (why) throw new Error(`"${e}": ${why}`);
    return e;
  });
}

/** "10.0.0.0/8, 192.0.2.7, fd00::/8" → ranges (a bare address is /32 or /128); throws an Error saying which entry is wrong and why. */
export function parseCidrList(list: string): Cidr[] {
  return entriesOf(list).map((e) => {
    const slash = e.indexOf('/');
    const address = slash < 0 ? e : e.slice(0, slash);
    const why = addressProblem(address);
    if (why) throw new Error(`"${e}": ${why}`);
    const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    const max = family === 'ipv4' ? 32 : 128;
    if (slash < 0) return { address, prefix: max, family };
    // Digits only: Number() would read "" as 0 (everyone), and "0x8", "8.0" or "1e1" as numbers too.
    const bits = e.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`"${e}": the prefix length after "/" must be a number 0-${max}`);
    return { address, prefix: Number(bits), family };
  });
}

/**
 * An address as the client it names: an IPv4-mapped IPv6 address (a dual-stack listener reports
 * IPv4 peers as ::ffff:192.0.2.1; a forwarded X-Forwarded-For entry may spell it
 * 0:0:0:0:0:ffff:c000:201) is its IPv4, and a link-local one loses its zone (fe80::1%eth0 names
 * our own interface, nothing a client or an app can use). Anything else is returned as it is.
 */
export function clientAddress(ip: string): string {
  // Node's own spelling of a mapped peer: every request's case, no parsing.
  if (ip.startsWith('::ffff:') && ip.indexOf('.', 7) > 0) return ip.slice(7);
  const zone = ip.indexOf('%');
  const addr = zone < 0 ? ip : ip.slice(0, zone);
  if (!/ffff/i.test(addr) || !net.isIPv6(addr)) return addr === ip || net.isIP(addr) ? addr : ip;
  const h = ipv6Groups(addr);
  const mapped = h[0] === 0 && h[1] === 0 && h[2] === 0 && h[3] === 0 && h[4] === 0 && h[5] === 0xffff;
  return mapped ? `${h[6]! >> 8}.${h[6]! & 255}.${h[7]! >> 8}.${h[7]! & 255}` : addr;
}

/** The eight 16-bit groups of a valid IPv6 address ("::" expanded, a dotted IPv4 tail as two groups). */
export function ipv6Groups(addr: string): number[] {
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
