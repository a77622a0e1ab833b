import { DreamError, isDreamError } from '@dreamnet/core';
// Secret config values never reach stored or streamed build output: each is replaced by "****".
// Values shorter than MIN_SECRET are left alone — masking "1" or "true" would garble every line
// and reveal the value by where the stars appear.
export const MIN_SECRET = 6;
const MASK = '****';

export function secretMasker(values: Iterable<string>): (line: string) => string {
  // Longest first, so a secret containing another is masked whole.
  const secrets = [...new Set(values)].filter((v) => v.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  };
}

/**
 * The error with `mask` applied to its message and stack: a target's error can quote the replica's
 * last log lines, which may print config values; reasons and the api's log get this copy instead.
 */
export function maskedError(e: unknown, mask: (line: string) => string): Error {
  if (!(e instanceof Error)) return new Error(mask(String(e)));
  const out = isDreamError(e) ? new DreamError(e.code, mask(e.message)) : new Error(mask(e.message));
  out.stack = mask(e.stack ?? out.message);
  return out;
}
