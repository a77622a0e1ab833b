import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, replayable, shouldRetry } from './retry.js';

describe('retry policy', () => {
  const base = { attempts: 1, committed: false, replayable: false, connectFailed: false };

  it('sends a refused request elsewhere whatever its method, up to MAX_ATTEMPTS', () => {
    expect(shouldRetry({ ...base, connectFailed: true })).toBe(true);
    expect(shouldRetry({ ...base, connectFailed: true, attempts: MAX_ATTEMPTS })).toBe(false);
  });

  it('replays a reset only for idempotent requests without a body', () => {
    expect(shouldRetry({ ...base, replayable: replayable('GET', false) })).toBe(true);
    expect(shouldRetry({ ...base, replayable: replayable('DELETE', false) })).toBe(true);
    expect(shouldRetry({ ...base, replayable: replayable('POST', false) })).toBe(false);
    expect(shouldRetry({ ...base, replayable: replayable('PUT', true) })).toBe(false);
  });

  it('never retries once body bytes went out or response bytes came back', () => {
    expect(shouldRetry({ ...base, committed: true, replayable: true })).toBe(false);
    expect(shouldRetry({ ...base, committed: true, connectFailed: true })).toBe(false);
  });
});
