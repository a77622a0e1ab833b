// The SDK's updateApp against the real api: the proxy settings round-trip, and null goes back to the
// proxy's own default.
import { describe, expect, it } from 'vitest';
import { liveApi } from './test-api.js';

const live = liveApi();

describe('updateApp', () => {
  it('sets and clears maxRequestBody and requestBuffering; getApp shows them', async () => {
    const made = await live.client.createApp('uploads');
    expect(made).toMatchObject({ maxRequestBody: null, requestBuffering: null, healthCheckPath: null });
    const changed = await live.client.updateApp('uploads', { maxRequestBody: 50 * 1024 * 1024, requestBuffering: false, healthCheckPath: '/healthz' });
    expect(changed).toMatchObject({ maxRequestBody: 52428800, requestBuffering: false, healthCheckPath: '/healthz' });
    expect(await live.client.getApp('uploads')).toMatchObject({ maxRequestBody: 52428800, requestBuffering: false, healthCheckPath: '/healthz' });
    // Only the fields sent change.
    expect(await live.client.updateApp('uploads', { maxRequestBody: 0 })).toMatchObject({ maxRequestBody: 0, requestBuffering: false });
    expect(await live.client.updateApp('uploads', { maxRequestBody: null, requestBuffering: null })).toMatchObject({ maxRequestBody: null, requestBuffering: null, healthCheckPath: '/healthz' });
    await expect(live.client.updateApp('uploads', { maxRequestBody: -1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
