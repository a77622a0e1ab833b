// The seam between the proxy's listeners (server wiring) and certificate management (apps/proxy/src/tls).
// The listeners only ever call these; everything ACME/CA/renewal lives behind them.
import type tls from 'node:tls';

export type CertState = 'pending' | 'issued' | 'renewing' | 'failing';

export interface CertStatus {
  host: string;
  state: CertState;
  issuer?: string;
  notAfter?: string;
  /** The CA's reason on the last failure, as the user should see it. */
  error?: string;
  nextAttemptAt?: string;
}

export interface CertificateSource {
  /** Synchronous, for SNICallback: the context for a served name (exact or wildcard), or undefined. */
  secureContext(servername: string): tls.SecureContext | undefined;
  /**
   * For the SNI callback when secureContext() has nothing: a served name whose certificate another
   * process is issuing or just stored resolves to it (bounded wait); undefined = fail the handshake now.
   */
  secureContextSoon?(servername: string): Promise<tls.SecureContext | undefined> | undefined;
  /** True once a valid certificate exists for the host (turns on the HTTP→HTTPS redirect). */
  hasCertificate(host: string): boolean;
  /** HTTP-01: the key authorization for a token under /.well-known/acme-challenge/, or undefined. */
  httpChallenge(token: string): string | undefined;
  /** Called with every host the route table serves; orders what is missing, in the background. */
  ensure(hosts: string[]): void;
  /**
   * ensure() told only what changed since the last call (hosts that came, hosts that went): the same
   * result, in time proportional to the change. Optional: without it the caller uses ensure().
   */
  change?(added: string[], removed: string[]): void;
  status(): CertStatus[];
  close(): Promise<void>;
}

/** A source with no certificates (TLS off): the proxy serves plain HTTP only. */
export const NO_CERTIFICATES: CertificateSource = {
  secureContext: () => undefined,
  hasCertificate: () => false,
  httpChallenge: () => undefined,
  ensure: () => {},
  status: () => [],
  close: async () => {},
};
