// What a challenge responder does: publish the proof for one identifier, then take it down.
export interface ChallengeSolver {
  readonly type: 'http-01' | 'dns-01';
  /** `keyAuthorization` is what the CA checks (for dns-01, already the base64url SHA-256 digest). */
  present(name: string, token: string, keyAuthorization: string): Promise<void>;
  cleanup(name: string, token: string, keyAuthorization: string): Promise<void>;
}
