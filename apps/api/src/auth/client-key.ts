// Which client an auth failure counts against (auth/limiter.ts). An IPv6 subscriber is routed a
// whole /64 (RFC 6177) and may send from any of its 2^64 addresses, so counting per address let one
// client rotate its source and never be limited: the /64 is the client, as fail2ban, nginx
// limit_req and Cloudflare treat it. A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d: that
// is the IPv4 client. IPv4 counts per address. Pure.
import net from 'node:net';
import { clientAddress, ipv6Groups } from '@dreamnet/core';

/** `ip` is req.ip: the TCP peer, or the client a trusted proxy forwarded (DREAM_TRUSTED_PROXIES). */
export function clientKey(ip: string): string {
  const addr = clientAddress(ip);
  if (net.isIPv4(addr)) return addr;
  // Not an address at all (a trusted proxy forwarded something odd): counted as the string it is.
  if (!net.isIPv6(addr)) return ip;
  return `${ipv6Groups(addr).slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}
