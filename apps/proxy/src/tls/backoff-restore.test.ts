// A sibling's order backoff (backoff.ts restore()) as another process on the data dir meets it: it
// holds back a name that needs an order, and says nothing about a name served with a certificate
// that is not due. Each process picks its own point in the CA's renewal window (ari.ts), so one may
// renew — and fail — while for another the same certificate is weeks from due.
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { handshake, onCleanup, tmp } from './test-support.js';

const HOST = 'hello.dream';
const DAY = 86_400_000;
const FAILED = 'urn:ietf:params:acme:error:unauthorized: 404 for the challenge';

async function setup() {
  const dir = tmp();
  const ca = await BuiltinCa.open(new TlsStorage(dir));
  const real = new BuiltinIssuer(ca, 30);
  const ca$ = { down: false, calls: 0 };
  const clock = new ManualClock(Date.now() - 5 * DAY);
  /** A process whose point in the renewal window is `renewIn` from when it asks (negative: due now). */
  const start = (renewIn: number) => {
    const issuer: Issuer = {
      id: 'https://ca.example.test/directory', name: 'ca.example.test',
      issue: (h, clock) => { ca$.calls++; return ca$.down ? Promise.reject(new Error(FAILED)) : real.issue(h, clock); },
      renewalInfo: async () => ({ renewAt: new Date(clock.now() + renewIn), retryAfterMs: 3600_000 }),
    };
    const mgr = new CertManager({ storage: new TlsStorage(dir), clock, issuerFor: () => issuer, backoff: { minMs: 60_000, maxMs: 3600_000 }, tickMs: 3_600_000 });
    onCleanup(() => mgr.close());
    return mgr;
  };
  return { ca, ca$, clock, start };
}

describe('a sibling process\'s order backoff', () => {
  it('shows nowhere for a name whose certificate is not due here; it holds the name back once it is', async () => {
    const { ca, ca$, clock, start } = await setup();
    const a = start(20 * DAY);
    a.ensure([HOST]);
    await a.tick();
    expect(a.status()[0]).toMatchObject({ state: 'issued', error: undefined });
    // b picked the start of the window: it renews now, and the CA fails it.
    ca$.down = true;
    const b = start(-60_000);
    b.ensure([HOST]);
    await b.tick();
    expect(ca$.calls).toBe(2);
    expect(b.status()[0]).toMatchObject({ state: 'failing', error: FAILED });
    // a asks again (its Retry-After): still weeks away for it, as stored beside the certificate.
    clock.advance(3600_000);
    await a.tick();
    // A new worker of a's proxy (a reload, a re-fork) serves the same certificate, not due.
    const c = start(20 * DAY);
    c.ensure([HOST]);
    await c.whenRead();
    await c.tick();
    expect(ca$.calls).toBe(2);
    expect(c.status()[0]).toEqual(expect.objectContaining({ state: 'issued', error: undefined, nextAttemptAt: undefined }));
    expect(a.status()[0]).toEqual(expect.objectContaining({ state: 'issued', error: undefined, nextAttemptAt: undefined }));
    expect(await handshake(c, HOST, ca.rootPem)).toMatchObject({ authorized: true });

    // Three weeks on, a third of its lifetime is left: due for every process; b tries again first and fails.
    clock.advance(21 * DAY);
    await b.tick();
    expect(ca$.calls).toBe(3);
    const retryAt = b.status()[0]!.nextAttemptAt;
    expect(Date.parse(retryAt!) - clock.now()).toBe(120_000);
    // c needs an order now: b's backoff holds it back too, and says so.
    await c.tick();
    expect(ca$.calls).toBe(3);
    expect(c.orders).toBe(0);
    expect(c.status()[0]).toEqual(expect.objectContaining({ state: 'failing', error: FAILED, nextAttemptAt: retryAt }));
    // So does it for a process started now, before any order.
    const d = start(20 * DAY);
    d.ensure([HOST]);
    await d.whenRead();
    expect(d.status()[0]).toEqual(expect.objectContaining({ state: 'failing', error: FAILED, nextAttemptAt: retryAt }));
    await d.tick();
    expect(ca$.calls).toBe(3);
  });
});
