// Pure: a decoded DNS query → the response packet, for the zone the platform is authoritative for.
// `.dream`: A/AAAA for served names → the edge addresses; TXT at _acme-challenge.<name> while a
// DNS-01 order is in flight; NXDOMAIN for unknown names. Other names the proxy serves (custom
// domains) also get A/AAAA, so a resolver pointed here (e.g. a test CA) finds the edge; anything else
// is REFUSED — this is not a recursive resolver.
import net from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

export const RCODE = { NOERROR: 0, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Zone {
  /** Edge addresses from settings (IPv4 and/or IPv6). */
  edge: string[];
  /** True when the proxy serves this host (exact name). */
  serves(host: string): boolean;
  /** TXT values published for this name (DNS-01), [] when none. */
  txt(name: string): string[];
}

const TTL = 60;
const soa = (): Answer => ({
  name: 'dream', type: 'SOA', ttl: TTL,
  data: { mname: 'ns.dream', rname: 'hostmaster.dream', serial: Math.floor(Date.now() / 1000) >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: TTL },
});

export function answer(zone: Zone, query: Packet): Packet {
  const q = query.questions?.[0];
  const base = { type: 'response' as const, id: query.id, questions: query.questions ?? [] };
  const flags = (rcode: number, aa = true) => (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED | rcode;
  if (!q || (query.questions?.length ?? 0) !== 1) return { ...base, flags: flags(RCODE.NOTIMP, false) };
  return { ...base, ...resolve(q.name.toLowerCase().replace(/\.$/, ''), q.type, flags) };

  function resolve(name: string, type: string, fl: (rcode: number, aa?: boolean) => number): Packet {
    const inZone = name === 'dream' || name.endsWith('.dream');
    const txt = zone.txt(name);
    const served = zone.serves(name);
    if (!inZone && !served && !txt.length) return { flags: fl(RCODE.REFUSED, false) };
    const answers: Answer[] = [];
    if (served && (type === 'A' || type === 'ANY')) for (const a of zone.edge) if (net.isIPv4(a)) answers.push({ name, type: 'A', ttl: TTL, data: a });
    if (served && (type === 'AAAA' || type === 'ANY')) for (const a of zone.edge) if (net.isIPv6(a)) answers.push({ name, type: 'AAAA', ttl: TTL, data: a });
    if (txt.length && (type === 'TXT' || type === 'ANY')) for (const v of txt) answers.push({ name, type: 'TXT', ttl: 0, data: [v] });
    if (name === 'dream' && (type === 'SOA' || type === 'ANY')) answers.push(soa());
    if (name === 'dream' && (type === 'NS' || type === 'ANY')) answers.push({ name, type: 'NS', ttl: TTL, data: 'ns.dream' });
    const exists = served || txt.length > 0 || name === 'dream';
    // NOERROR with no answers ("no data") for an existing name and another type; SOA for negative caching.
    return { flags: fl(exists ? RCODE.NOERROR : RCODE.NXDOMAIN), answers, authorities: answers.length || !inZone ? [] : [soa()] };
  }
}
