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
