// Which repository URLs a webhook may fetch: allow-listed schemes only, no credentials or option-like
// text, and (for file:, used by tests) an absolute path. Pure.
import { DreamError } from '@dreamnet/core';

export function allowedSchemes(setting: string): string[] {
  return setting.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
}

export function assertRepoUrl(raw: string, schemes: string[]): string {
  const bad = (why: string) => new DreamError('REPO_URL_NOT_ALLOWED', `Repository URL ${JSON.stringify(raw.slice(0, 200))} is not allowed: ${why}.`);
  if (raw.length > 2000 || /[\s\0]/.test(raw) || raw.startsWith('-')) throw bad('it has spaces, control characters or starts with "-"');
  let u: URL;
  try { u = new URL(raw); } catch { throw bad('it is not a URL'); }
  const scheme = u.protocol.replace(/:$/, '');
  if (!schemes.includes(scheme)) throw bad(`the scheme must be one of ${schemes.join(', ') || '(none configured)'}`);
  if (u.username || u.password) throw bad('credentials in URLs are not stored; use a public or deploy-key URL');
  if (scheme === 'file' && (u.host !== '' || !u.pathname.startsWith('/'))) throw bad('file URLs must be file:///absolute/path');
  if (scheme !== 'file' && !u.hostname) throw bad('it has no host');
  return u.toString();
}

/** `refs/heads/<branch>` → branch, when it is exactly the deploy branch's ref. */
export function isDeployRef(ref: string, branch: string): boolean {
  return ref === `refs/heads/${branch}`;
}

export const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
