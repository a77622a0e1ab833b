// Issuers turn a list of names into a certificate + key. AcmeIssuer runs the RFC 8555 order flow
// with acme-client (order → authorizations → challenge → finalize → download); BuiltinIssuer signs
// with the platform's own `.dream` CA. Both report the CA's reason as the thrown Error's message; an
// order the CA held back (rate-limited, unavailable for a while) as a CaHold saying until when.
import https from 'node:https';
import type * as acme from 'acme-client';
import type { AcmeAccount } from './account.js';
import { accountId } from './account-files.js';
import { acmeLib } from './acme-lib.js';
import { ariCertId, fetchRenewalInfo, renewalInfoUrl, type RenewalAdvice } from './ari.js';
import { BUILTIN, type BuiltinCa, type IssuedPair } from './ca.js';
import { CaHold, caHold, watchCaAnswers } from './ca-hold.js';
import type { ChallengeSolver } from './challenges/types.js';
import type { Clock } from './renewal.js';

export { ariCertId } from './ari.js';

export interface Issuer {
  /** Storage key: the directory URL, or 'builtin'. */
  readonly id: string;
  /**
   * The ACME account that orders (accountId(): directory + EAB key id), what the order throttle
   * counts per; undefined = one account per id (the built-in CA has none).
   */
  readonly accountId?: string;
  /** Shown in status (`dream domains`). */
  readonly name: string;
  /**
   * `clock`: the manager's — the built-in CA dates the certificate by it, and a CA's Retry-After
   * (CaHold.retryAt) is counted on it; `replacing`: the certificate this one renews (ACME sends its
   * ARI id as `replaces`).
   */
  issue(hosts: string[], clock: Clock, replacing?: string): Promise<IssuedPair>;
  /** ACME Renewal Information: when the CA suggests renewing this certificate, if it says. */
  renewalInfo?(certPem: string): Promise<RenewalAdvice | undefined>;
}

export class BuiltinIssuer implements Issuer {
  readonly id = BUILTIN;
  readonly name = 'DreamNet built-in CA';
  constructor(private readonly ca: BuiltinCa, private readonly days = 30) {}
  issue(hosts: string[], clock: Clock): Promise<IssuedPair> { return this.ca.issue(hosts, new Date(clock.now()), this.days); }
}

/** Why the directory cannot be fetched (the network error), or 'it answered' when it can. */
async function reachability(url: string): Promise<string> {
  const agent = (await acmeLib()).axios.defaults.httpsAgent;
  return new Promise((resolve) => {
    const req = https.get(url, { agent: agent as https.Agent | undefined, timeout: 5000 }, (res) => { res.resume(); resolve(`it answered HTTP ${res.statusCode}`); });
    req.on('timeout', () => req.destroy(new Error('it did not answer within 5 s')));
    req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ? `${(e as NodeJS.ErrnoException).code} (${e.message})` : e.message));
  });
}

export class AcmeIssuer implements Issuer {
  readonly id: string;
  readonly accountId: string;
  constructor(private readonly account: AcmeAccount, private readonly solvers: ChallengeSolver[], readonly name = new URL(account.opts.directoryUrl).host) {
    this.id = account.opts.directoryUrl;
    this.accountId = accountId(account.opts.directoryUrl, account.opts.eab?.kid);
  }

  async issue(hosts: string[], clock: Clock, replacing?: string): Promise<IssuedPair> {
    try {
      try {
        return await watchCaAnswers(() => this.order(hosts, replacing), clock);
      } catch (e) {
        if (e instanceof TypeError || e instanceof CaHold || !(await this.account.forgotten())) throw e;
        return await watchCaAnswers(() => this.order(hosts, replacing), clock); // registered again
      }
    } catch (e) {
      // acme-client loses network errors once its retries run out (it throws a TypeError about
      // `config`); say what actually happened instead.
      if (e instanceof TypeError) throw new Error(`cannot reach the ACME server ${this.name}: ${await reachability(this.id)}`);
      throw e;
    }
  }

  private async order(hosts: string[], replacing?: string): Promise<IssuedPair> {
    const acme = await acmeLib();
    const client = await this.account.ready();
    const identifiers = hosts.map((value) => ({ type: 'dns', value }));
    // RFC 9773: name the certificate being renewed, only to a CA that offers ARI.
    const replaces = replacing && (await renewalInfoUrl(this.id).catch(() => undefined)) ? ariCertId(replacing) : undefined;
    const order = replaces
      // A CA may refuse `replaces` (already replaced by an order that then failed): renew anyway,
      // unless it refused the order itself for now (rate-limited): asking again at once is hammering.
      ? await client.createOrder({ identifiers, replaces } as Parameters<acme.Client['createOrder']>[0]).catch((e: unknown) => { if (caHold(e)) throw e; return client.createOrder({ identifiers }); })
      : await client.createOrder({ identifiers });
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

  renewalInfo(certPem: string): Promise<RenewalAdvice | undefined> { return fetchRenewalInfo(this.id, certPem); }

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
