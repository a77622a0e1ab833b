// An operator-supplied default certificate (DREAM_TLS_CERT_FILE/KEY_FILE) layered over a
// CertificateSource: served when the source has nothing for the name, and to clients sending no
// SNI (read and checked at start: setting-files.ts). It never turns on the HTTP→HTTPS redirect (it may not even match the host).
import tls from 'node:tls';
import type { DefaultPem } from './setting-files.js';
import type { CertificateSource } from './tls/types.js';

export function withDefaultCertificate(source: CertificateSource, pem: DefaultPem): CertificateSource {
  const fallback = tls.createSecureContext(pem);
  return {
    secureContext: (name) => source.secureContext(name) ?? fallback,
    hasCertificate: (h) => source.hasCertificate(h),
    httpChallenge: (t) => source.httpChallenge(t),
    ensure: (hosts) => source.ensure(hosts),
    change: source.change ? (added, removed) => source.change!(added, removed) : undefined,
    status: () => source.status(),
    close: () => source.close(),
    defaultPem: pem,
  } as CertificateSource & { defaultPem: DefaultPem };
}

/** The key pair for clients that sent no SNI (the SNI callback only runs when there is a name). */
export function defaultPemOf(source: CertificateSource): DefaultPem | undefined {
  return (source as { defaultPem?: DefaultPem }).defaultPem;
}
