// Which peers may tell us who the client is (X-Forwarded-*): the DREAM_TRUSTED_PROXIES list of
// addresses/CIDRs (e.g. a load balancer in front of the edge). Nobody, by default. Pure.
import net from 'node:net';
import { parseCidrList } from '@dreamnet/core';

export type TrustCheck = (peer: string) => boolean;

export const TRUST_NOBODY: TrustCheck = () => false;

/**
 * Parses "10.0.0.0/8, 192.168.1.7, ::1" into a check; throws on an entry it cannot read (the
 * grammar of loadConfig, which refuses such a setting at start). An IPv4 range also matches an
 * IPv4-mapped address (::ffff:10.0.0.1, as a dual-stack listener reports it, in any spelling).
 */
export function trustedProxies(list: string): TrustCheck {
  let ranges;
  try { ranges = parseCidrList(list); } catch (e) { throw new Error(`DREAM_TRUSTED_PROXIES: ${(e as Error).message}`); }
  if (ranges.length === 0) return TRUST_NOBODY;
  const bl = new net.BlockList();
  for (const r of ranges) bl.addSubnet(r.address, r.prefix, r.family);
  // BlockList itself matches an IPv4-mapped address, in any spelling, against IPv4 ranges (and an
  // IPv4 address against ::ffff: ranges): nothing to unmap here.
  return (peer) => {
    const type = net.isIPv4(peer) ? 'ipv4' : net.isIPv6(peer) ? 'ipv6' : null;
    return type !== null && bl.check(peer, type);
  };
}

/**
 * Who the client is, for the access log: the peer, or, when the peer is a trusted proxy, the
 * right-most X-Forwarded-For entry that is not trusted itself, so what a client prepends is never
 * taken (nginx's real_ip_recursive, Caddy's client_ip with trusted_proxies_strict). All trusted: the
 * left-most; an entry that is no address ends the walk at the trusted hop to its right.
 */
export function clientOf(peer: string, xff: string | string[] | undefined, trusted: TrustCheck): string {
  if (xff === undefined || !trusted(peer)) return peer;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (!net.isIP(hop)) break;
    client = hop;
    if (!trusted(hop)) break;
  }
  return client;
}
