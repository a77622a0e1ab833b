// An HTTP Retry-After header as the CA sends it (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
// Shared by ARI (when to ask again) and a refused order (when the CA will take one again).

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** How many ms after `now` the header says, or undefined when it says nothing usable. */
export function parseRetryAfter(header: unknown, now: number): number | undefined {
  const v = typeof header === 'string' ? header.trim() : '';
  // A date as HTTP sends them (IMF-fixdate): Date.parse alone would take '-5' or '1.5' as years.
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : IMF_FIXDATE.test(v) ? Date.parse(v) - now : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
