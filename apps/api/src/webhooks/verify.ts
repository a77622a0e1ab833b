// Inbound git webhooks, pure part: which headers each forge uses, signature checks (HMAC-SHA256 or
// GitLab's shared token, always compared in constant time) and reading the push out of the payload.
import crypto from 'node:crypto';
import { DreamError } from '@dreamnet/core';

export const FORGES = ['github', 'gitlab', 'gitea'] as const;
export type Forge = (typeof FORGES)[number];
type Headers = Record<string, string | string[] | undefined>;

const HEADERS: Record<Forge, { signature: string; delivery: string; event: string; push: string; ping?: string }> = {
  github: { signature: 'x-hub-signature-256', delivery: 'x-github-delivery', event: 'x-github-event', push: 'push', ping: 'ping' },
  gitlab: { signature: 'x-gitlab-token', delivery: 'x-gitlab-event-uuid', event: 'x-gitlab-event', push: 'Push Hook' },
  gitea: { signature: 'x-gitea-signature', delivery: 'x-gitea-delivery', event: 'x-gitea-event', push: 'push' },
};

const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export function signatureOf(h: Headers, forge: Forge): string | undefined {
  return header(h, HEADERS[forge].signature);
}

/** Constant-time equality of two strings (false when lengths differ; no early exit on content). */
export function sameSecret(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y) && a.length === b.length;
}

export function hmacHex(secret: string, body: Buffer): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

/** Throws WEBHOOK_SIGNATURE_INVALID unless the delivery was made with `secret` (which must be non-empty). */
export function verifySignature(forge: Forge, h: Headers, body: Buffer, secret: string): void {
  if (!secret) throw new DreamError('WEBHOOK_DISABLED');
  const presented = signatureOf(h, forge);
  const bad = new DreamError('WEBHOOK_SIGNATURE_INVALID');
  if (!presented) throw bad;
  const ok = forge === 'gitlab' ? sameSecret(presented, secret)
    : forge === 'github' ? sameSecret(presented, `sha256=${hmacHex(secret, body)}`)
      : sameSecret(presented.toLowerCase(), hmacHex(secret, body));
  if (!ok) throw bad;
}

export interface Delivery { id: string; kind: 'push' | 'ping' | 'other'; event: string }

export function deliveryOf(forge: Forge, h: Headers): Delivery {
  const names = HEADERS[forge];
  const id = header(h, names.delivery);
  if (!id || !/^[A-Za-z0-9-]{1,100}$/.test(id)) throw new DreamError('VALIDATION_FAILED', `A ${forge} webhook needs a ${names.delivery} header (a delivery id).`);
  const event = header(h, names.event) ?? '';
  return { id, event, kind: event === names.push ? 'push' : event === names.ping ? 'ping' : 'other' };
}

export interface Push { ref: string; after: string; cloneUrl: string | null }

/** The pushed ref, the new commit and the repository's clone URL, from any of the three payloads. */
export function parsePush(forge: Forge, body: Buffer): Push {
  let p: { ref?: unknown; after?: unknown; repository?: { clone_url?: unknown; git_http_url?: unknown }; project?: { git_http_url?: unknown } };
  try { p = JSON.parse(body.toString('utf8')); } catch { throw new DreamError('VALIDATION_FAILED', 'The webhook payload is not JSON (send application/json payloads).'); }
  if (typeof p?.ref !== 'string' || typeof p.after !== 'string') throw new DreamError('VALIDATION_FAILED', 'The push payload has no ref/after.');
  const url = forge === 'gitlab' ? (p.project?.git_http_url ?? p.repository?.git_http_url) : p.repository?.clone_url;
  return { ref: p.ref, after: p.after, cloneUrl: typeof url === 'string' ? url : null };
}
