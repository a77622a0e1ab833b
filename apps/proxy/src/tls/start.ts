// Wiring: settings → storage, issuers, solvers, CertManager, the `.dream` DNS and the status
// reporter. The proxy's server calls startCertificates() once and uses `.certs` (CertificateSource).
import net from 'node:net';
import type { Config } from '@dreamnet/core';
import type { Logger } from 'pino';
import type { Zone } from '../dns/answer.js';
import { DreamDns } from '../dns/server.js';
import { acmeEab, readCaBundle } from '../setting-files.js';
import { AcmeAccount } from './account.js';
import { configureAcmeHttp } from './acme-lib.js';
import { BuiltinCa } from './ca.js';
import { Dns01Solver } from './challenges/dns01.js';
import { Http01Solver } from './challenges/http01.js';
import { AcmeIssuer, BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager, type CertManagerOptions } from './manager.js';
import { StatusReporter } from './reporter.js';
import { TlsStorage } from './storage.js';

type TlsConfig = Pick<Config, 'dataDir' | 'apiUrl' | 'acmeDirectory' | 'acmeEmail' | 'acmeEabKid' | 'acmeEabHmac' | 'acmeCaBundle' | 'dreamAcmeDirectory' | 'dnsHost' | 'dnsPort' | 'edgeAddress'>;

export interface StartCertificatesOptions {
  config: TlsConfig;
  log?: Logger;
  /** Internal token + proxy id: status is reported to the api when given. */
  token?: string;
  proxyId?: string;
  /** Overrides for tests: clock, backoff, tick interval, throttle, CA leaf lifetime. */
  manager?: Partial<Pick<CertManagerOptions, 'clock' | 'backoff' | 'tickMs' | 'throttle' | 'lockStaleMs'>>;
  builtinDays?: number;
}

export interface Certificates {
  certs: CertManager;
  dns?: DreamDns;
  ca?: BuiltinCa;
  close(): Promise<void>;
}

export const isDreamName = (h: string) => h === 'dream' || h.endsWith('.dream');
/** Names no CA will sign: IP literals and single-label/local names. */
const unorderable = (h: string) => net.isIP(h) !== 0 || !h.includes('.') || h.endsWith('.localhost') || h.endsWith('.local');

/** What the `.dream` DNS answers from: the names this process serves and the DNS-01 records. */
export function dreamZone(edge: string[], certs: Pick<CertManager, 'serves' | 'servesBelow'>, dns01: Pick<Dns01Solver, 'txt' | 'hasBelow'>): Zone {
  return {
    edge,
    serves: (h) => certs.serves(h),
    // Anything below makes the name an empty non-terminal: a served host (a wildcard one included:
    // '*.b.dream' ends with '.b.dream') or a DNS-01 record at any depth, also one another process on
    // this data dir presented for a name this process does not serve.
    servesBelow: (n) => certs.servesBelow(n) || dns01.hasBelow(n),
    txt: (n) => dns01.txt(n),
  };
}

export async function startCertificates(o: StartCertificatesOptions): Promise<Certificates> {
  const { config: c } = o;
  const storage = new TlsStorage(c.dataDir);
  configureAcmeHttp(readCaBundle(c.acmeCaBundle));
  const http01 = new Http01Solver(storage);
  const dns01 = new Dns01Solver(storage);
  const eab = acmeEab(c);
  const publicAccount = c.acmeDirectory ? new AcmeAccount(storage, { directoryUrl: c.acmeDirectory, email: c.acmeEmail || undefined, eab }, o.log) : undefined;
  const publicIssuer: Issuer | undefined = publicAccount ? new AcmeIssuer(publicAccount, [http01]) : undefined;
  let ca: BuiltinCa | undefined;
  let dreamIssuer: Issuer;
  if (c.dreamAcmeDirectory) {
    // One account per directory, also when both settings name the same one.
    const account = publicAccount && c.dreamAcmeDirectory === c.acmeDirectory ? publicAccount : new AcmeAccount(storage, { directoryUrl: c.dreamAcmeDirectory, email: c.acmeEmail || undefined }, o.log);
    dreamIssuer = new AcmeIssuer(account, [http01, dns01]);
  } else {
    ca = await BuiltinCa.open(storage);
    dreamIssuer = new BuiltinIssuer(ca, o.builtinDays);
  }
  let reporter: StatusReporter | undefined;
  const certs = new CertManager({
    storage, http01, log: o.log, ...o.manager,
    issuerFor: (h) => (unorderable(h) ? undefined : isDreamName(h) ? dreamIssuer : publicIssuer),
    onChange: () => reporter?.changed(),
  });
  if (o.token) reporter = new StatusReporter({ apiUrl: c.apiUrl, token: o.token, proxyId: o.proxyId ?? 'proxy', status: () => certs.status(), log: o.log });
  const dns = c.dnsPort > 0
    ? await DreamDns.start({
      host: c.dnsHost, port: c.dnsPort, log: o.log,
      zone: dreamZone(c.edgeAddress.split(',').map((s) => s.trim()).filter(Boolean), certs, dns01),
    })
    : undefined;
  return {
    certs, dns, ca,
    async close() { reporter?.close(); await certs.close(); await dns?.close(); },
  };
}
