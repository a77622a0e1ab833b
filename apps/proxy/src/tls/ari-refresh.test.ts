// The CA's renewal advice moving a certificate's renewal later than it stood: a name whose renewal
// was due (and failed, or had not run yet) is no longer due, and `dream domains` says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';

const DAY = 86_400_000;
const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

it('a renewal that failed stops showing as failing once the CA advises renewing later; nothing is ordered until then', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-ari-'));
  dirs.push(dir);
  const real = new BuiltinIssuer(await BuiltinCa.open(new TlsStorage(dir)), 30);
  const clock = new ManualClock(Date.now() - 5 * DAY);
  const ca = { down: false, calls: 0, renewIn: 20 * DAY };
  const issuer: Issuer = {
    id: 'https://ca.example.test/directory', name: 'ca.example.test',
    issue: (h, c) => { ca.calls++; return ca.down ? Promise.reject(new Error('urn:ietf:params:acme:error:serverInternal: CA is down')) : real.issue(h, c); },
    renewalInfo: async () => ({ renewAt: new Date(clock.now() + ca.renewIn), retryAfterMs: 3600_000 }),
  };
  const mgr = new CertManager({ storage: new TlsStorage(dir), clock, issuerFor: () => issuer, backoff: { minMs: 60_000, maxMs: 3600_000 }, tickMs: 3_600_000 });
  closers.push(() => mgr.close());
  mgr.ensure(['hello.dream']);
  await mgr.tick();
  expect(mgr.status()[0]).toMatchObject({ state: 'issued' });
  // The CA asks for an early renewal (ahead of a revocation), and fails it.
  ca.renewIn = -60_000;
  ca.down = true;
  clock.advance(3600_000);
  await mgr.tick();
  expect(ca.calls).toBe(2);
  expect(mgr.status()[0]).toMatchObject({ state: 'failing', error: expect.stringContaining('CA is down') });
  // Then it advises renewing in 20 days after all: the certificate serves and is not due.
  ca.renewIn = 20 * DAY;
  clock.advance(3600_000);
  await mgr.tick();
  // Before: 'failing', with the old reason and a retry time long past, for good.
  expect(mgr.status()[0]).toMatchObject({ state: 'issued', error: undefined, nextAttemptAt: undefined });
  expect(ca.calls).toBe(2);
  clock.advance(3600_000);
  await mgr.tick();
  expect(ca.calls).toBe(2);
});
