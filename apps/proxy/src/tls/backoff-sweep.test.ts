// Order backoff files of names that left the route table are removed — but only once no process on
// the data dir can still be relying on them: run out for longer than the longest backoff, and checked
// and removed under the name's order lock, which every writer of the file holds.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager, type CertManagerOptions } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { onCleanup, tmp } from './test-support.js';

const DIRECTORY = 'https://ca.example.test/directory';
const MIN = 60_000;
const MAX = 3600_000; // the longest backoff in these tests
const HOUR = 3600_000;

async function setup() {
  const dir = tmp();
  const real = new BuiltinIssuer(await BuiltinCa.open(new TlsStorage(dir)), 30);
  const ca$ = { down: true, calls: 0 };
  const issuer: Issuer = {
    id: DIRECTORY, name: 'ca.example.test',
    issue: (h, clock) => { ca$.calls++; return ca$.down ? Promise.reject(new Error('urn:ietf:params:acme:error:unauthorized: 404 for the challenge')) : real.issue(h, clock); },
  };
  const clock = new ManualClock(Date.now());
  const start = (o: Partial<CertManagerOptions> = {}) => {
    const mgr = new CertManager({ storage: new TlsStorage(dir), clock, issuerFor: () => issuer, backoff: { minMs: MIN, maxMs: MAX }, tickMs: 3_600_000, ...o });
    onCleanup(() => mgr.close());
    return mgr;
  };
  const file = (host: string) => path.join(dir, 'tls/backoff', TlsStorage.issuerId(DIRECTORY), `${host.replace(/^\*\./, '_wildcard_.')}.json`);
  const failures = (host: string) => (JSON.parse(fs.readFileSync(file(host), 'utf8')) as { failures: number }).failures;
  return { dir, ca$, clock, start, file, failures };
}

describe('backoff files of names no longer wanted', () => {
  it('a removed domain\'s file goes once its backoff ran out longer than the longest backoff ago; re-added later it starts afresh', async () => {
    const { ca$, clock, start, file, failures } = await setup();
    const m = start();
    m.ensure(['gone.example.dream', '*.wild.example.dream', 'kept.example.dream']);
    await m.tick();
    for (let i = 0; i < 3; i++) { clock.advance(4 * MIN); await m.tick(); } // 4 failures each: next one 8 min away
    expect(failures('gone.example.dream')).toBe(4);
    m.ensure(['kept.example.dream']); // the other two left the route table
    await m.tick();
    // Still in force, then run out but not for long: a sibling may yet rely on them.
    expect(fs.existsSync(file('gone.example.dream'))).toBe(true);
    clock.advance(8 * MIN + MAX - 1000);
    await m.tick();
    expect(fs.existsSync(file('gone.example.dream'))).toBe(true);
    expect(fs.existsSync(file('*.wild.example.dream'))).toBe(true);
    clock.advance(HOUR);
    await m.tick();
    expect(fs.existsSync(file('gone.example.dream'))).toBe(false);
    expect(fs.existsSync(file('*.wild.example.dream'))).toBe(false);
    expect(fs.existsSync(file('kept.example.dream'))).toBe(true); // still wanted here: never swept

    // Re-added: ordered at once, and a failure now waits the first step (1 min), not the 5th (16 min).
    const calls = ca$.calls;
    m.ensure(['kept.example.dream', 'gone.example.dream']);
    await m.tick();
    expect(ca$.calls).toBeGreaterThan(calls);
    expect(failures('gone.example.dream')).toBe(1);
    expect(Date.parse(m.status().find((s) => s.host === 'gone.example.dream')!.nextAttemptAt!) - clock.now()).toBe(MIN);
  });

  it('a sibling process that still orders the name keeps its file: it rewrites it at every retry', async () => {
    const { clock, start, file, failures } = await setup();
    const sibling = start(); // another proxy on the data dir, with its own route table
    const here = start();
    sibling.ensure(['theirs.example.dream']);
    here.ensure(['mine.example.dream']);
    for (let i = 0; i < 12; i++) {
      await sibling.tick();
      await here.tick();
      expect(fs.existsSync(file('theirs.example.dream')), `after ${i * 30} min`).toBe(true);
      clock.advance(30 * MIN);
    }
    // The sibling retried at every due time for 6 h; the file was never removed under it (a removal
    // would have reset the count a restart of it restores).
    expect(failures('theirs.example.dream')).toBe(9);

    // The sibling stops; once the file ran out longer than the longest backoff ago it is swept.
    await sibling.close();
    clock.advance(2 * MAX);
    await here.tick();
    expect(fs.existsSync(file('theirs.example.dream'))).toBe(false);
  });

  it('never while another process holds the name\'s order lock (the only time a file is written)', async () => {
    const { dir, clock, start, file } = await setup();
    const old = start();
    old.ensure(['locked.example.dream']);
    await old.tick();
    await old.close();
    const release = new TlsStorage(dir).tryLock('locked.example.dream', 120_000)!;
    expect(release).toBeTypeOf('function');
    const m = start();
    m.ensure([]);
    clock.advance(MIN + MAX + 1);
    await m.tick();
    expect(fs.existsSync(file('locked.example.dream'))).toBe(true);
    release();
    clock.advance(HOUR); // swept at most once an hour
    await m.tick();
    expect(fs.existsSync(file('locked.example.dream'))).toBe(false);
  });
});
