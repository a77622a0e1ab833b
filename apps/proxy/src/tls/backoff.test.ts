// Backoff and throttle as an operator meets them: across restarts and sibling processes, in the
// status `dream domains` shows and in the log. A fake ACME issuer (the id of a directory URL, so the
// per-account throttle applies) that fails or succeeds on demand, signing with the built-in CA.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { AcmeAccount } from './account.js';
import { AcmeIssuer, BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager, type CertManagerOptions } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { onCleanup, tmp } from './test-support.js';

const HOST = 'www.example.dream';
const DIRECTORY = 'https://ca.example.test/directory';

async function setup() {
  const dir = tmp();
  const ca = await BuiltinCa.open(new TlsStorage(dir));
  const real = new BuiltinIssuer(ca, 30);
  const ca$ = { down: true, calls: 0, gate: Promise.resolve() };
  const issuer: Issuer = {
    id: DIRECTORY, name: 'ca.example.test',
    issue: async (h, clock) => { ca$.calls++; await ca$.gate; return ca$.down ? Promise.reject(new Error('urn:ietf:params:acme:error:unauthorized: 404 for the challenge')) : real.issue(h, clock); },
  };
  const clock = new ManualClock(Date.now());
  let out = '';
  const log = pino({ level: 'info' }, { write: (s: string) => { out += s; } });
  const start = (o: Partial<CertManagerOptions> = {}) => {
    const mgr = new CertManager({ storage: new TlsStorage(dir), clock, log, issuerFor: () => issuer, backoff: { minMs: 60_000, maxMs: 3600_000 }, tickMs: 3_600_000, ...o });
    onCleanup(() => mgr.close());
    return mgr;
  };
  const file = path.join(dir, 'tls/backoff', TlsStorage.issuerId(DIRECTORY), `${HOST}.json`);
  return { dir, ca$, clock, real, start, file, log: () => out };
}

describe('order backoff survives a restart', () => {
  it('a restarted proxy does not ask the CA again before the backoff ends; it keeps doubling; success clears it', async () => {
    const { ca$, clock, start, file, log } = await setup();
    const a = start();
    a.ensure([HOST]);
    await a.tick();
    expect(ca$.calls).toBe(1);
    await a.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const b = start(); // the restart
    b.ensure([HOST]);
    await b.tick();
    expect(ca$.calls).toBe(1); // no order reached the CA
    const st = b.status()[0]!;
    expect(st).toMatchObject({ state: 'failing', error: expect.stringContaining('404 for the challenge') });
    expect(Date.parse(st.nextAttemptAt!) - clock.now()).toBe(60_000);
    expect(log()).toMatch(/certificate order held back: it failed before/);

    clock.advance(60_000);
    await b.tick();
    expect(ca$.calls).toBe(2);
    expect(Date.parse(b.status()[0]!.nextAttemptAt!) - clock.now()).toBe(120_000); // the count survived
    await b.close();

    ca$.down = false;
    clock.advance(120_000);
    const c = start();
    c.ensure([HOST]);
    await c.tick();
    expect(ca$.calls).toBe(3);
    expect(c.status()[0]).toMatchObject({ state: 'issued', error: undefined, nextAttemptAt: undefined });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a sibling process on the same data dir honours the backoff another one just wrote', async () => {
    const { ca$, clock, start } = await setup();
    const [a, b] = [start(), start()];
    a.ensure([HOST]); // a orders…
    b.ensure([HOST]); // …so b finds the name locked and looks again in 2 s
    await a.tick();
    clock.advance(2000);
    await b.tick();
    expect(ca$.calls).toBe(1);
    expect(b.status()[0]).toMatchObject({ state: 'failing', error: expect.stringContaining('404 for the challenge') });
  });

  it('a damaged backoff file is logged by name and ignored', async () => {
    const { ca$, start, file, log } = await setup();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"failures": 3, "nextAt');
    ca$.down = false;
    const m = start();
    m.ensure([HOST]);
    await m.tick();
    expect(m.status()[0]).toMatchObject({ state: 'issued' });
    expect(log()).toContain(`the order backoff file ${file} is damaged`);
  });
});

describe('a name ordered again after a failure', () => {
  it('says, while the new order runs, that the reason is the previous attempt\'s', async () => {
    const { ca$, clock, start } = await setup();
    const m = start();
    m.ensure([HOST]);
    await m.tick();
    expect(m.status()[0]).toMatchObject({ state: 'failing', error: expect.stringContaining('404 for the challenge') });
    // The next order hangs at the CA until released: what `dream domains` is told meanwhile.
    let release!: () => void;
    ca$.down = false;
    ca$.gate = new Promise<void>((r) => { release = r; });
    clock.advance(60_000);
    const again = m.tick();
    await expect.poll(() => m.status()[0]!.state).toBe('pending');
    expect(m.status()[0]).toEqual(expect.objectContaining({
      state: 'pending', nextAttemptAt: undefined,
      error: 'previous attempt failed: urn:ietf:params:acme:error:unauthorized: 404 for the challenge',
    }));
    release();
    await again;
    expect(m.status()[0]).toMatchObject({ state: 'issued', error: undefined });
  });
});

describe('a name held back by the per-account throttle', () => {
  it('says it is throttled and until when, in the status and the log', async () => {
    const { ca$, clock, start, log } = await setup();
    ca$.down = false;
    const m = start({ throttle: { max: 1, windowMs: 3600_000 } });
    m.ensure(['a.example.dream', 'b.example.dream']);
    await m.tick();
    expect(ca$.calls).toBe(1);
    const held = m.status().find((s) => s.state !== 'issued')!;
    expect(held).toMatchObject({ state: 'pending', error: expect.stringMatching(/^throttled: this ACME account already placed 1 orders in the last 1 h/) });
    expect(held.nextAttemptAt).toBe(new Date(clock.now() + 3600_000).toISOString());
    await expect.poll(log, { timeout: 5000 }).toMatch(/"hosts":\["[ab]\.example\.dream"\].*certificate order held back: throttled/);
    clock.advance(3600_000);
    await m.tick();
    expect(m.status().map((s) => [s.state, s.error, s.nextAttemptAt])).toEqual([['issued', undefined, undefined], ['issued', undefined, undefined]]);
  });

  it('is one warn line per account for all the names it holds back (count and a few of them), the names at debug', async () => {
    const { dir, ca$, clock, real } = await setup();
    const lines: Array<{ level: number; msg: string; host?: string; names?: number; hosts?: string[] }> = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
    const issuer: Issuer = { id: DIRECTORY, name: 'ca.example.test', issue: (h, clock) => { ca$.calls++; return real.issue(h, clock); } };
    const m = new CertManager({ storage: new TlsStorage(dir), clock, log, issuerFor: () => issuer, tickMs: 3_600_000, throttle: { max: 1, windowMs: 3600_000 } });
    onCleanup(() => m.close());
    const hosts = Array.from({ length: 300 }, (_, i) => `n${i}.example.dream`);
    m.ensure(hosts);
    await m.whenRead();
    await m.tick();
    const warned = () => lines.filter((l) => l.level === 40 && l.msg.startsWith('certificate order held back'));
    await expect.poll(() => warned().length, { timeout: 5000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 1500)); // and no second one
    expect(warned()).toHaveLength(1);
    expect(warned()[0]).toMatchObject({ names: 299, msg: expect.stringMatching(/^certificate order held back: throttled: /) });
    expect(warned()[0]!.hosts).toHaveLength(5);
    const debug = lines.filter((l) => l.level === 20 && l.msg.startsWith('certificate order held back'));
    expect(new Set(debug.map((l) => l.host)).size).toBe(299);
    expect(m.status().filter((s) => s.error?.startsWith('throttled: '))).toHaveLength(299);
    // The next window: one order, and again one line for the 298 still held back.
    clock.advance(3600_000);
    await m.tick();
    await expect.poll(() => warned().length, { timeout: 5000 }).toBe(2);
    expect(warned()[1]).toMatchObject({ names: 298 });
    expect(ca$.calls).toBe(2);
  });

  it('is the account\'s, not one per process: workers and sibling proxies on the data dir, and a restart, share it', async () => {
    const { ca$, clock, start } = await setup();
    ca$.down = false;
    const t = { throttle: { max: 2, windowMs: 3600_000 } };
    const [a, b] = [start(t), start(t)]; // two workers of one proxy
    a.ensure(['a.example.dream', 'b.example.dream']);
    await a.tick();
    b.ensure(['c.example.dream', 'd.example.dream']);
    await b.tick();
    expect(ca$.calls).toBe(2);
    expect(b.status().map((s) => s.state)).toEqual(['pending', 'pending']);
    expect(b.status()[0]!.error).toMatch(/^throttled: this ACME account already placed 2 orders in the last 1 h/);
    expect(b.status()[0]!.nextAttemptAt).toBe(new Date(clock.now() + 3600_000).toISOString());
    await b.close();
    const c = start(t); // a restart
    c.ensure(['c.example.dream', 'd.example.dream']);
    await c.tick();
    expect(ca$.calls).toBe(2);
    clock.advance(3600_000);
    await c.tick();
    expect(ca$.calls).toBe(4);
    expect(c.status().map((s) => s.state)).toEqual(['issued', 'issued']);
  });

  it('is per account: the same directory with another EAB key id is another account, with its own limit at the CA', async () => {
    const { dir, ca$, clock, real } = await setup();
    ca$.down = false;
    // The issuers the proxy makes for DREAM_ACME_EAB_KID=kid-a and kid-b (account.ts, account-files.ts),
    // signing with the built-in CA instead of asking a CA.
    const viaKid = (kid: string): Issuer => {
      const acme = new AcmeIssuer(new AcmeAccount(new TlsStorage(dir), { directoryUrl: DIRECTORY, eab: { kid, hmacKey: 'c2VjcmV0' } }), []);
      return { id: acme.id, name: acme.name, accountId: acme.accountId, issue: (h, clock) => { ca$.calls++; return real.issue(h, clock); } };
    };
    const start = (issuer: Issuer) => {
      const mgr = new CertManager({ storage: new TlsStorage(dir), clock, issuerFor: () => issuer, tickMs: 3_600_000, throttle: { max: 2, windowMs: 3600_000 } });
      onCleanup(() => mgr.close());
      return mgr;
    };
    const a = start(viaKid('kid-a'));
    a.ensure(['a.example.dream', 'b.example.dream']);
    await a.tick();
    expect(a.status().map((s) => s.state)).toEqual(['issued', 'issued']);
    // A sibling proxy on the data dir (or the next start) with another key id: its account placed no order yet.
    const b = start(viaKid('kid-b'));
    b.ensure(['c.example.dream', 'd.example.dream']);
    await b.tick();
    expect(b.status().map((s) => [s.state, s.error])).toEqual([['issued', undefined], ['issued', undefined]]);
    // kid-a's account is still at its limit.
    const c = start(viaKid('kid-a'));
    c.ensure(['e.example.dream']);
    await c.tick();
    expect(c.status()[0]).toMatchObject({ state: 'pending', error: expect.stringMatching(/^throttled: this ACME account already placed 2 orders/) });
    expect(ca$.calls).toBe(4);
  });
});
