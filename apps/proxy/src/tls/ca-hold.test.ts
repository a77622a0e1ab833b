// Which answers of the CA hold an order back, for how long, and whether for the whole account: fed
// to noteCaAnswer() as axios hands them over (parsed body, headers, status) during one order.
import { describe, expect, it } from 'vitest';
import { CaHold, MAX_HOLD_MS, noteCaAnswer, watchCaAnswers } from './ca-hold.js';
import type { Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { onCleanup, tmp } from './test-support.js';

const LIMITED = 'urn:ietf:params:acme:error:rateLimited';

/** What watchCaAnswers() throws for an order whose last answer from the CA was this one. */
async function refused(status: number, body: object, retryAfter?: string): Promise<unknown> {
  return watchCaAnswers(async () => {
    const config: { retryAttempt?: number } = {};
    noteCaAnswer.call(config, { status: 201 }, {}, 201); // an earlier answer that was fine
    noteCaAnswer.call(config, body, retryAfter === undefined ? {} : { 'retry-after': retryAfter }, status);
    expect(config.retryAttempt).toBe(Number.MAX_SAFE_INTEGER); // acme-client's own retry left out
    throw new Error('detail as acme-client words it');
  }).catch((e: unknown) => e);
}

describe('caHold', () => {
  it('a rateLimited 429 holds the name for its Retry-After, per name unless the CA names the account', async () => {
    const before = Date.now();
    const name = await refused(429, { type: LIMITED, detail: 'too many failed authorizations (5) for "a.example" in the last 1h0m0s: see https://letsencrypt.org/docs/rate-limits/#authorization-failures-per-hostname-per-account' }, '120') as CaHold;
    expect(name).toBeInstanceOf(CaHold);
    expect(name.accountWide).toBe(false);
    expect(name.retryAt! - before).toBeGreaterThanOrEqual(120_000);
    expect(name.retryAt! - Date.now()).toBeLessThanOrEqual(120_000);
    expect(name.message).toMatch(/^rate-limited by the CA \(HTTP 429\) until .*: too many failed authorizations/);
    const account = await refused(429, { type: LIMITED, detail: 'too many new orders (300) from this account in the last 3h0m0s' }, '60') as CaHold;
    expect(account.accountWide).toBe(true);
    expect(((await refused(429, { type: LIMITED, detail: 'too many new registrations (10) from this IP address' }, '60')) as CaHold).accountWide).toBe(true);
  });

  it('an HTTP-date, and never more than 7 days', async () => {
    const at = new Date(Math.ceil((Date.now() + 3600_000) / 1000) * 1000);
    expect(((await refused(429, { type: LIMITED, detail: 'x' }, at.toUTCString())) as CaHold).retryAt).toBe(at.getTime());
    const far = (await refused(429, { type: LIMITED, detail: 'x' }, String(30 * 86_400))) as CaHold;
    expect(far.retryAt! - Date.now()).toBeLessThanOrEqual(MAX_HOLD_MS);
    expect(far.retryAt! - Date.now()).toBeGreaterThan(MAX_HOLD_MS - 1000);
  });

  it('a 429 without Retry-After still says rate-limited (our own backoff decides when); a 503 only with one', async () => {
    const bare = (await refused(429, { type: LIMITED, detail: 'slow down' })) as CaHold;
    expect(bare).toBeInstanceOf(CaHold);
    expect(bare.retryAt).toBeUndefined();
    const down = (await refused(503, { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'down for maintenance' }, '30')) as CaHold;
    expect(down).toMatchObject({ accountWide: true, message: expect.stringMatching(/^the CA is unavailable \(HTTP 503\) until .*: down for maintenance$/) });
    expect(await refused(503, { type: 'urn:ietf:params:acme:error:serverInternal', detail: 'oops' })).not.toBeInstanceOf(CaHold);
    expect(await refused(400, { type: 'urn:ietf:params:acme:error:rejectedIdentifier', detail: 'no' }, '30')).not.toBeInstanceOf(CaHold);
  });

  it('a refusal the order got past (a later answer was fine) is not the reason it failed', async () => {
    const e = await watchCaAnswers(async () => {
      noteCaAnswer.call({}, { type: LIMITED, detail: 'x' }, { 'retry-after': '60' }, 429);
      noteCaAnswer.call({}, { status: 'invalid' }, {}, 200);
      throw new Error('challenge invalid');
    }).catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(CaHold);
    expect((e as Error).message).toBe('challenge invalid');
  });

  it('counts on the manager\'s clock, not the system\'s (a test clock, a clock set apart)', async () => {
    const clock = new ManualClock(Date.parse('2031-03-01T10:00:00.000Z'));
    const hold = await watchCaAnswers(async () => {
      noteCaAnswer.call({}, { type: LIMITED, detail: 'too many certificates (5) already issued for this exact set of identifiers' }, { 'retry-after': '120' }, 429);
      clock.advance(1000); // the answer came a second into the order
      throw new Error('x');
    }, clock).catch((e: unknown) => e) as CaHold;
    expect(hold.retryAt).toBe(Date.parse('2031-03-01T10:02:00.000Z'));
    expect(hold.message).toMatch(/^rate-limited by the CA \(HTTP 429\) until 2031-03-01T10:02:00\.000Z: /);
    // An HTTP-date is a time on the same clock.
    const dated = await watchCaAnswers(async () => {
      noteCaAnswer.call({}, { type: LIMITED, detail: 'x' }, { 'retry-after': 'Sat, 01 Mar 2031 11:00:00 GMT' }, 429);
      throw new Error('x');
    }, clock).catch((e: unknown) => e) as CaHold;
    expect(dated.retryAt).toBe(Date.parse('2031-03-01T11:00:00.000Z'));
  });

  it('a name the CA held back is not ordered before its Retry-After on the manager\'s clock', async () => {
    const clock = new ManualClock(Date.parse('2031-03-01T10:00:00.000Z'));
    // An issuer whose CA answers newOrder with a 429, Retry-After 10 min, as AcmeIssuer reads it.
    const issuer: Issuer = {
      id: 'https://ca.example.test/directory', name: 'ca.example.test',
      issue: (_h, c) => watchCaAnswers(async () => {
        noteCaAnswer.call({}, { type: LIMITED, detail: 'too many failed authorizations (5) for "a.example.test"' }, { 'retry-after': '600' }, 429);
        throw new Error('x');
      }, c),
    };
    const m = new CertManager({ storage: new TlsStorage(tmp()), clock, issuerFor: () => issuer, tickMs: 3_600_000, backoff: { minMs: 60_000, maxMs: 3600_000 } });
    onCleanup(() => m.close());
    m.ensure(['a.example.test']);
    await m.whenRead();
    await m.tick();
    expect(m.status()[0]).toMatchObject({ state: 'failing', nextAttemptAt: '2031-03-01T10:10:00.000Z', error: expect.stringMatching(/^rate-limited by the CA \(HTTP 429\) until 2031-03-01T10:10:00\.000Z: /) });
  });
});
