// An operator-supplied default certificate (DREAM_TLS_CERT_FILE/KEY_FILE) layered over a
// CertificateSource: served when the source has nothing for the name, and to clients sending no
// SNI. It never turns on the HTTP→HTTPS redirect (it may not even match the host).
import fs from 'node:fs';
import tls from 'node:tls';
import type { CertificateSource } from './tls/types.js';

export interface DefaultPem { cert: Buffer; key: Buffer }

/** Reads and checks the pair; throws a clear error when a file is unreadable or they do not match. */
export function loadDefaultCertificate(certFile: string, keyFile: string): DefaultPem {
  try {
    const pem = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
    tls.createSecureContext(pem);
    return pem;
  } catch (e) {
    throw new Error(`DREAM_TLS_CERT_FILE/DREAM_TLS_KEY_FILE (${certFile}, ${keyFile}): ${(e as Error).message}`);
  }
}

export function withDefaultCertificate(source: CertificateSource, pem: DefaultPem): CertificateSource {
  const fallback = tls.createSecureContext(pem);
  return {
    secureContext: (name) => source.secureContext(name) ?? fallback,
    hasCertificate: (h) => source.hasCertificate(h),
    httpChallenge: (t) => source.httpChallenge(t),
    ensure: (hosts) => source.ensure(hosts),
    status: () => source.status(),
    close: () => source.close(),
    defaultPem: pem,
  } as CertificateSource & { defaultPem: DefaultPem };
}

/** The key pair for clients that sent no SNI (the SNI callback only runs when there is a name). */
export function defaultPemOf(source: CertificateSource): DefaultPem | undefined {
  return (source as { defaultPem?: DefaultPem }).defaultPem;
}
