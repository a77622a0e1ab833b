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
