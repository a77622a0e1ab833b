// Which peers may tell us who the client is (X-Forwarded-*): the DREAM_TRUSTED_PROXIES list of
// addresses/CIDRs (e.g. a load balancer in front of the edge). Nobody, by default. Pure.
import net from 'node:net';

export type TrustCheck = (peer: string) => boolean;

export const TRUST_NOBODY: TrustCheck = () => false;

/** Parses "10.0.0.0/8, 192.168.1.7, ::1" into a check; throws on an entry it cannot read. */
export function trustedProxies(list: string): TrustCheck {
  const entries = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return TRUST_NOBODY;
  const bl = new net.BlockList();
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const type = net.isIPv4(addr ?? '') ? 'ipv4' : net.isIPv6(addr ?? '') ? 'ipv6' : null;
    const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
    if (!type || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
      throw new Error(`DREAM_TRUSTED_PROXIES: "${e}" is not an IP address or CIDR`);
    }
    bl.addSubnet(addr!, prefix, type);
  }
  return (peer) => {
    const ip = peer.startsWith('::ffff:') ? peer.slice(7) : peer;
    const type = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
    return type !== null && bl.check(ip, type);
  };
}
