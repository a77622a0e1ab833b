// Issuers turn a list of names into a certificate + key. AcmeIssuer runs the RFC 8555 order flow
// with acme-client (order → authorizations → challenge → finalize → download); BuiltinIssuer signs
// with the platform's own `.dream` CA. Both report the CA's reason as the thrown Error's message.
import https from 'node:https';
import type * as acme from 'acme-client';
import * as x509 from '@peculiar/x509';
import { acmeLib, type AcmeAccount } from './account.js';
import { BUILTIN, type BuiltinCa, type IssuedPair } from './ca.js';
import type { ChallengeSolver } from './challenges/types.js';

export interface Issuer {
  /** Storage key: the directory URL, or 'builtin'. */
  readonly id: string;
  /** Shown in status (`dream domains`). */
  readonly name: string;
  issue(hosts: string[], now: Date): Promise<IssuedPair>;
  /** ACME Renewal Information: when the CA suggests renewing this certificate, if it says. */
  renewalInfo?(certPem: string): Promise<Date | undefined>;
}

export class BuiltinIssuer implements Issuer {
  readonly id = BUILTIN;
  readonly name = 'DreamNet built-in CA';
  constructor(private readonly ca: BuiltinCa, private readonly days = 30) {}
  issue(hosts: string[], now: Date): Promise<IssuedPair> { return this.ca.issue(hosts, now, this.days); }
}

/** Why the directory cannot be fetched (the network error), or 'it answered' when it can. */
async function reachability(url: string): Promise<string> {
  const agent = (await acmeLib()).axios.defaults.httpsAgent;
  return new Promise((resolve) => {
    const req = https.get(url, { agent: agent as https.Agent | undefined, timeout: 5000 }, (res) => { res.resume(); resolve(`it answered HTTP ${res.statusCode}`); });
    req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
    req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code} (${e.message})` : e.message));
  });
}

const b64u = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');

/** RFC 9773 certificate id: base64url(AKI keyIdentifier) "." base64url(serial DER value). */
export function ariCertId(leafPem: string): string | undefined {
  const cert = new x509.X509Certificate(leafPem);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  if (!aki?.keyId) return undefined;
  let serial = cert.serialNumber.toLowerCase();
  if (serial.length % 2) serial = `0${serial}`;
  if (parseInt(serial.slice(0, 2), 16) >= 0x80) serial = `00${serial}`; // DER INTEGER stays positive
  return `${b64u(aki.keyId)}.${b64u(serial)}`;
}

export class AcmeIssuer implements Issuer {
  readonly id: string;
  constructor(private readonly account: AcmeAccount, private readonly solvers: ChallengeSolver[], readonly name = new URL(account.opts.directoryUrl).host) {
    this.id = account.opts.directoryUrl;
  }

  async issue(hosts: string[]): Promise<IssuedPair> {
    try {
      return await this.order(hosts);
    } catch (e) {
      // acme-client loses network errors once its retries run out (it throws a TypeError about
      // `config`); say what actually happened instead.
      if (e instanceof TypeError) throw new Error(`cannot reach the ACME server ${this.name}: ${await reachability(this.id)}`);
      throw e;
    }
  }

  private async order(hosts: string[]): Promise<IssuedPair> {
    const acme = await acmeLib();
    const client = await this.account.ready();
    const order = await client.createOrder({ identifiers: hosts.map((value) => ({ type: 'dns', value })) });
    const cleanups: Array<() => Promise<void>> = [];
    try {
      for (const authz of await client.getAuthorizations(order)) {
        if (authz.status === 'valid') continue;
        const solver = this.pick(authz);
        const challenge = authz.challenges.find((c) => c.type === solver.type)!;
        const keyAuth = await client.getChallengeKeyAuthorization(challenge);
        const name = (authz.wildcard ? '*.' : '') + authz.identifier.value;
        await solver.present(name, challenge.token, keyAuth);
        cleanups.push(() => solver.cleanup(name, challenge.token, keyAuth));
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
      }
      const [keyPem, csr] = await acme.crypto.createCsr({ commonName: hosts[0], altNames: hosts }, await acme.crypto.createPrivateEcdsaKey('P-256'));
      const done = await client.finalizeOrder(order, csr);
      const certPem = await client.getCertificate(done);
      const info = acme.crypto.readCertificateInfo(certPem);
      return { certPem, keyPem: keyPem.toString(), notBefore: info.notBefore, notAfter: info.notAfter };
    } finally {
      for (const c of cleanups) await c().catch(() => {});
    }
  }

  async renewalInfo(certPem: string): Promise<Date | undefined> {
    const acme = await acmeLib();
    const dir = (await acme.axios.get(this.id)).data as { renewalInfo?: string };
    const id = dir?.renewalInfo ? ariCertId(certPem) : undefined;
    if (!dir?.renewalInfo || !id) return undefined;
    const res = await acme.axios.get(`${dir.renewalInfo.replace(/\/$/, '')}/${id}`);
    const w = (res.data as { suggestedWindow?: { start: string; end: string } }).suggestedWindow;
    if (res.status !== 200 || !w) return undefined;
    // A random point in the window spreads renewals out, as the RFC asks.
    const start = new Date(w.start).getTime();
    const end = new Date(w.end).getTime();
    return new Date(start + Math.random() * Math.max(0, end - start));
  }

  // Wildcards can only be proven over DNS; otherwise HTTP-01 (works for any name routed to us).
  private pick(authz: acme.Authorization): ChallengeSolver {
    const offered = new Set(authz.challenges.map((c) => c.type));
    const order: ChallengeSolver['type'][] = authz.wildcard ? ['dns-01'] : ['http-01', 'dns-01'];
    for (const t of order) {
      const s = this.solvers.find((x) => x.type === t);
      if (s && offered.has(t)) return s;
    }
    throw new Error(`no way to prove control of ${authz.identifier.value}: the CA offers ${[...offered].join(', ')}`);
  }
}
