// The ARI Retry-After: seconds or an HTTP-date, kept between 1 h and 1 day, 6 h without a usable one.
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './ari.js';

const H = 3600_000;
const now = Date.parse('2026-12-05T12:00:00Z');

describe('retryAfterMs', () => {
  it('takes seconds', () => {
    expect(retryAfterMs('7200', now)).toBe(2 * H);
    expect(retryAfterMs(' 21600 ', now)).toBe(6 * H);
  });

  it('takes an HTTP-date, counted from now', () => {
    expect(retryAfterMs('Sat, 05 Dec 2026 20:00:00 GMT', now)).toBe(8 * H);
    expect(retryAfterMs(new Date(now + 3 * H).toUTCString(), now)).toBe(3 * H);
  });

  it('keeps the answer between 1 h and 1 day', () => {
    expect(retryAfterMs('0', now)).toBe(H);
    expect(retryAfterMs('60', now)).toBe(H);
    expect(retryAfterMs('Sat, 05 Dec 2026 11:00:00 GMT', now)).toBe(H); // a date already past
    expect(retryAfterMs('604800', now)).toBe(24 * H);
  });

  it('asks again in 6 h when the CA says nothing usable', () => {
    for (const h of [undefined, '', 'soon', '-5', '1.5', ['7200']]) expect(retryAfterMs(h, now), JSON.stringify(h)).toBe(6 * H);
  });
});
