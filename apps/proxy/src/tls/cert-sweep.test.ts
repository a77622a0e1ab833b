// Stored certificates of names that left the route table are removed once they expired more than a
// day ago (certmagic's grace), a damaged one once it is that old — never a served name's, never an
// unexpired one, and never while another process holds the name's order lock (it may be renewing it).
// Before, every name a proxy ever served kept its pair on disk for ever.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { onCleanup, tmp } from './test-support.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function setup() {
  const dir = tmp();
  const real = new BuiltinIssuer(await BuiltinCa.open(new TlsStorage(dir)), 1); // leaves valid 1 day
  const ca$ = { down: false };
  const issuer: Issuer = { id: real.id, name: real.name, issue: (h, clock) => (ca$.down ? Promise.reject(new Error('the CA is down')) : real.issue(h, clock)) };
  const clock = new ManualClock(Date.now());
  let logged = '';
  const log = pino({ level: 'info' }, { write: (s: string) => { logged += s; } });
  const start = () => {
    const mgr = new CertManager({ storage: new TlsStorage(dir), clock, log, issuerFor: () => issuer, tickMs: 3_600_000 });
    onCleanup(() => mgr.close());
    return mgr;
  };
  const pairDir = (host: string) => path.join(dir, 'tls/certs/builtin', host.replace(/^\*\./, '_wildcard_.'));
  const stored = (host: string) => fs.existsSync(pairDir(host));
  // As the certificate says (meta's copy can be more precise than the certificate's seconds).
  const notAfter = (host: string) => new Date(new crypto.X509Certificate((JSON.parse(fs.readFileSync(path.join(pairDir(host), 'pair.json'), 'utf8')) as { certPem: string }).certPem).validTo).toISOString();
  return { dir, ca$, clock, start, pairDir, stored, notAfter, logged: () => logged };
}

describe('stored certificates of names no longer served', () => {
  it('go a day after they expired; a served name\'s pair stays even expired, an unexpired one stays', async () => {
    const { ca$, clock, start, stored, notAfter, logged } = await setup();
    const t0 = clock.now();
    const m = start();
    m.ensure(['gone.example.dream', '*.wild.example.dream', 'kept.example.dream']);
    await m.tick();
    const goneUntil = notAfter('gone.example.dream');
    clock.advance(DAY / 2);
    m.ensure(['kept.example.dream', 'fresh.example.dream']);
    await m.tick(); // fresh: valid until t0 + 1.5 days
    ca$.down = true; // kept's renewals fail from now on: its pair expires while it is served
    m.ensure(['kept.example.dream']);

    clock.set(t0 + 2 * DAY - HOUR); // expired 23 h ago: a sibling may still be about to renew it
    await m.tick();
    expect(['gone.example.dream', '*.wild.example.dream', 'fresh.example.dream'].map(stored)).toEqual([true, true, true]);

    clock.set(t0 + 2 * DAY + HOUR);
    await m.tick();
    expect(stored('gone.example.dream')).toBe(false);
    expect(stored('*.wild.example.dream')).toBe(false);
    expect(stored('fresh.example.dream')).toBe(true); // expired 11 h ago
    expect(stored('kept.example.dream')).toBe(true); // served here: never swept
    const line = logged().split('\n').find((l) => l.includes('"host":"gone.example.dream"') && l.includes('removed'));
    expect(JSON.parse(line!)).toMatchObject({ level: 30, host: 'gone.example.dream', notAfter: goneUntil });

    clock.set(t0 + 3 * DAY); // fresh expired 1.5 days ago; swept at most hourly, this is later
    await m.tick();
    expect(stored('fresh.example.dream')).toBe(false);
    expect(stored('kept.example.dream')).toBe(true);
  });

  it('a damaged pair goes once it is older than a day; not while another process holds the name\'s order lock', async () => {
    const { dir, clock, start, pairDir, stored, logged } = await setup();
    const old = start();
    old.ensure(['locked.example.dream']);
    await old.tick();
    await old.close();
    clock.advance(2 * DAY + HOUR); // locked's pair expired 25 h ago
    for (const [host, age] of [['broken.example.dream', 2 * DAY], ['new-broken.example.dream', HOUR]] as const) {
      fs.mkdirSync(pairDir(host), { recursive: true });
      const f = path.join(pairDir(host), 'pair.json');
      fs.writeFileSync(f, '{"certPem": "-----BEGIN CERT'); // a write cut short
      fs.utimesSync(f, new Date(clock.now() - age), new Date(clock.now() - age));
    }
    const release = new TlsStorage(dir).tryLock('locked.example.dream', 120_000)!;
    expect(release).toBeTypeOf('function');
    const m = start();
    m.ensure([]);
    await m.tick();
    expect(stored('broken.example.dream')).toBe(false);
    expect(stored('new-broken.example.dream')).toBe(true); // could be a write in progress
    expect(stored('locked.example.dream')).toBe(true); // being ordered: the next sweep
    expect(logged()).toMatch(/"host":"broken.example.dream".*removed/);

    release();
    clock.advance(HOUR);
    await m.tick();
    expect(stored('locked.example.dream')).toBe(false);
  });
});

describe('stored certificates of a served name from a CA that no longer serves it', () => {
  it('go a day after they expired (a name moved to the built-in CA); the pair being served, and the serving CA\'s, stay', async () => {
    const dir = tmp();
    const real = new BuiltinIssuer(await BuiltinCa.open(new TlsStorage(dir)), 1); // leaves valid 1 day
    // The CA the names had before (Let's Encrypt, Pebble), signing with the built-in CA's key here.
    const OLD = 'https://old-ca.example.test/directory';
    const before: Issuer = { id: OLD, name: 'old-ca.example.test', issue: (h, clock) => real.issue(h, clock) };
    // Now: the built-in CA, which cannot issue stuck.example.dream (as a CA refusing a name).
    const after: Issuer = { id: real.id, name: real.name, issue: (h, clock) => (h[0] === 'stuck.example.dream' ? Promise.reject(new Error('refused')) : real.issue(h, clock)) };
    const clock = new ManualClock(Date.now());
    let logged = '';
    const log = pino({ level: 'info' }, { write: (s: string) => { logged += s; } });
    const start = (issuer: Issuer) => {
      const mgr = new CertManager({ storage: new TlsStorage(dir), clock, log, issuerFor: () => issuer, tickMs: 3_600_000 });
      onCleanup(() => mgr.close());
      return mgr;
    };
    const stored = (issuer: string, host: string) => fs.existsSync(path.join(dir, 'tls/certs', TlsStorage.issuerId(issuer), host));
    const t0 = clock.now();
    const old = start(before);
    old.ensure(['moved.example.dream', 'stuck.example.dream']);
    await old.tick();
    await old.close();

    const m = start(after);
    m.ensure(['moved.example.dream', 'stuck.example.dream']);
    await m.tick();
    expect(m.status().map((s) => [s.host, s.state])).toEqual([['moved.example.dream', 'issued'], ['stuck.example.dream', 'failing']]);
    expect(m.hasCertificate('stuck.example.dream')).toBe(true); // the old CA's pair, until the new one issues

    clock.set(t0 + 2 * DAY - HOUR); // the old pairs expired 23 h ago
    await m.tick();
    expect([stored(OLD, 'moved.example.dream'), stored(OLD, 'stuck.example.dream')]).toEqual([true, true]);

    clock.set(t0 + 2 * DAY + HOUR);
    await m.tick();
    expect(stored(OLD, 'moved.example.dream')).toBe(false); // before: kept for ever
    expect(stored('builtin', 'moved.example.dream')).toBe(true); // its own CA's: served
    expect(stored(OLD, 'stuck.example.dream')).toBe(true); // being served (expired) until the new CA issues
    expect(m.hasCertificate('stuck.example.dream')).toBe(true);
    const line = logged.split('\n').find((l) => l.includes('"host":"moved.example.dream"') && l.includes('removed'));
    expect(JSON.parse(line!)).toMatchObject({ level: 30, host: 'moved.example.dream', msg: expect.stringContaining('old-ca.example.test') });
  });
});
