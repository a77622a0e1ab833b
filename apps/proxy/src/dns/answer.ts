// Pure: a decoded DNS query → the response packet, for the zone the platform is authoritative for.
// `.dream`: A/AAAA for served names → the edge addresses; TXT at _acme-challenge.<name> while a
// DNS-01 order is in flight; ns.dream (the SOA's primary and the NS target) → the edge too, so the
// zone's own delegation data resolves; NXDOMAIN for unknown names. Other names the proxy serves (custom
// domains) also get A/AAAA, so a resolver pointed here (e.g. a test CA) finds the edge; anything else
// is REFUSED — this is not a recursive resolver.
import net from 'node:net';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

export const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export interface Zone {
  /** Edge addresses from settings (IPv4 and/or IPv6). */
  edge: string[];
  /** True when the proxy serves this host (exact name). */
  serves(host: string): boolean;
  /** True when something exists strictly below this name: a served host (a.b.dream or *.b.dream for
   * b.dream) or a DNS-01 record at any depth (_acme-challenge.x.b.dream for b.dream). */
  servesBelow(name: string): boolean;
  /** TXT values published for this name (DNS-01), [] when none. */
  txt(name: string): string[];
}

const TTL = 60;
/** The apex's name server: the edge itself answers DNS, so it gets the edge addresses. */
export const NS_NAME = 'ns.dream';
/** What we offer over UDP with EDNS0: the DNS Flag Day 2020 size, which avoids IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;
const OPCODE_MASK = 0x7800;
/**
 * How long a resolver keeps "no such name" (RFC 2308: the smaller of the SOA's TTL and MINIMUM).
 * Apps come and go here: at 60 s, a name looked up just before its app was created stayed NXDOMAIN
 * in the user's resolver (unbound measured) for up to a minute.
 */
export const NEGATIVE_TTL = 5;
const soa = (ttl = TTL): Answer => ({
  name: 'dream', type: 'SOA', ttl,
  data: { mname: NS_NAME, rname: 'hostmaster.dream', serial: Math.floor(Date.now() / 1000) >>> 0, refresh: 3600, retry: 600, expire: 86400, minimum: NEGATIVE_TTL },
});

type Opt = Extract<Answer, { type: 'OPT' }>;
const optOf = (p: Packet): Opt[] => (p.additionals ?? []).filter((a): a is Opt => a.type === 'OPT');

/** undefined: send nothing (the packet is itself a response; answering those invites loops). */
export function answer(zone: Zone, query: Packet): Packet | undefined {
  if (query.type === 'response') return undefined;
  const qflags = query.flags ?? 0;
  const opts = optOf(query);
  // RFC 6891: a query with OPT gets OPT back; an EDNS version above 0 gets BADVERS (extended rcode 16).
  // Its DO bit is copied back (RFC 3225 3: `dig +dnssec` shows `flags: do`).
  const badvers = opts.length === 1 && (opts[0].ednsVersion ?? 0) !== 0;
  const doBit = (opts[0]?.flags ?? 0) & dnsPacket.DNSSEC_OK;
  const additionals: Answer[] = opts.length ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: badvers ? 1 : 0, flags: doBit } as Opt] : [];
  const base = { type: 'response' as const, id: query.id, questions: query.questions ?? [], additionals };
  // The response carries the query's opcode, RD and CD bits (CD: RFC 4035 3.1.6; a validating
  // resolver such as unbound sets it on every query it sends here); AA only where we answer for our data.
  const flags = (rcode: number, aa = true) => (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | (qflags & (dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED | OPCODE_MASK)) | rcode;
  if ((qflags & OPCODE_MASK) !== 0) return { ...base, flags: flags(RCODE.NOTIMP, false) };
  // Zero or several questions, or several OPT records, are malformed (RFC 9619, RFC 6891 6.1.1).
  if ((query.questions?.length ?? 0) !== 1 || opts.length > 1) return { ...base, flags: flags(RCODE.FORMERR, false) };
  if (badvers) return { ...base, flags: flags(RCODE.NOERROR, false) };
  const q = query.questions![0];
  // Only class IN (or ANY) has data here; CHAOS etc. are not ours to answer. Zone transfers are
  // refused (RFC 5936 2.2.1): answered as a lookup they were an empty NOERROR, a broken transfer.
  if ((q.class !== undefined && q.class !== 'IN' && q.class !== 'ANY') || q.type === 'AXFR' || q.type === 'IXFR') return { ...base, flags: flags(RCODE.REFUSED, false) };
  return { ...base, ...resolve(q.name.toLowerCase().replace(/\.$/, ''), q.type, flags) };

  function resolve(name: string, type: string, fl: (rcode: number, aa?: boolean) => number): Packet {
    const inZone = name === 'dream' || name.endsWith('.dream');
    const txt = zone.txt(name);
    // Exact names only, no RFC 4592 wildcard synthesis: HTTP routing matches exact hosts (table.ts)
    // and drops a route with a `*.` host, so an address for a name under a wildcard would lead to a 404.
    const served = name === NS_NAME || zone.serves(name);
    if (!inZone && !served && !txt.length) return { flags: fl(RCODE.REFUSED, false) };
    const answers: Answer[] = [];
    if (served && (type === 'A' || type === 'ANY')) for (const a of zone.edge) if (net.isIPv4(a)) answers.push({ name, type: 'A', ttl: TTL, data: a });
    if (served && (type === 'AAAA' || type === 'ANY')) for (const a of zone.edge) if (net.isIPv6(a)) answers.push({ name, type: 'AAAA', ttl: TTL, data: a });
    if (txt.length && (type === 'TXT' || type === 'ANY')) for (const v of txt) answers.push({ name, type: 'TXT', ttl: 0, data: [v] });
    if (name === 'dream' && (type === 'SOA' || type === 'ANY')) answers.push(soa());
    if (name === 'dream' && (type === 'NS' || type === 'ANY')) answers.push({ name, type: 'NS', ttl: TTL, data: NS_NAME });
    // A name with a served host or a challenge below it (b.dream for a.b.dream or *.b.dream, x.dream
    // and b.dream for _acme-challenge.x.b.dream in a wildcard-only order) is an empty non-terminal: it exists.
    // NXDOMAIN there would tell a resolver (RFC 8020, QNAME minimisation) that nothing below exists.
    const exists = served || txt.length > 0 || name === 'dream' || zone.txt(`_acme-challenge.${name}`).length > 0 || zone.servesBelow(name);
    // NOERROR with no answers ("no data") for an existing name and another type; SOA for negative caching.
    return { flags: fl(exists ? RCODE.NOERROR : RCODE.NXDOMAIN), answers, authorities: answers.length || !inZone ? [] : [soa(NEGATIVE_TTL)] };
  }
}

/** The largest UDP response this query accepts: 512 without EDNS0 (RFC 1035), else its advertised size within ours. */
export function udpLimit(query: Packet): number {
  const opt = optOf(query)[0];
  return opt ? Math.max(512, Math.min(opt.udpPayloadSize ?? 512, EDNS_UDP_SIZE)) : 512;
}

/** Encodes for UDP: too large → TC set and the records dropped, so the resolver retries over TCP. */
export function encodeUdp(response: Packet, limit: number): Buffer {
  const full = dnsPacket.encode(response);
  if (full.length <= limit) return full;
  return dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [] });
}
