// Thousands of names at once (a restart over stored certificates, a first route table): ensure()
// returns at once, the event loop is never held long while their storage is read, a name wanted
// meanwhile is served from its stored pair, and no stored valid certificate is ordered again.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import type { IssuedPair } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { TlsStorage } from './storage.js';
import { handshake, onCleanup, tmp } from './test-support.js';

/**
 * The longest the event loop was held while `run` ran, in ms of CPU time: the most the process (this
 * test file's own) ran between two turns of a 1 ms timer. Not the wall-clock delay
 * (monitorEventLoopDelay): on a loaded box that counts the time the OS ran other processes too
 * (measured beside 3 busy loops on 2 cores: 276 and 382 ms, failing the 100 ms bound, where this
 * measure says 32-34 ms; the old ensure() that read every pair at once: 456-572 ms).
 */
async function longestBlock(run: () => Promise<void>): Promise<number> {
  let last = process.cpuUsage();
  let most = 0;
  const turn = () => {
    const now = process.cpuUsage(last);
    most = Math.max(most, (now.user + now.system) / 1000);
    last = process.cpuUsage();
  };
  const timer = setInterval(turn, 1);
  try { await run(); } finally { clearInterval(timer); turn(); }
  return most;
}

/** The CPU time `f` took, in ms (not wall-clock time, for the same reason). */
function cpuMs(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

describe('many names at once', () => {
  it('a restart over 300 stored certificates: ensure() returns at once, a name is served from its stored pair right away, none is ordered', async () => {
    const dir = tmp();
    const storage = new TlsStorage(dir);
    const ca = await BuiltinCa.open(storage);
    const hosts = Array.from({ length: 300 }, (_, i) => `app${i}.dream`);
    const serials = new Map<string, string>();
    for (const host of hosts) {
      const p = await ca.issue([host]);
      storage.saveCert('builtin', { certPem: p.certPem, keyPem: p.keyPem, meta: { host, issuer: 'DreamNet built-in CA', notBefore: p.notBefore.toISOString(), notAfter: p.notAfter.toISOString() } });
      serials.set(host, new crypto.X509Certificate(p.certPem).serialNumber);
    }
    const m = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => new BuiltinIssuer(ca) });
    onCleanup(() => m.close());
    let ensureMs = 0;
    let first: Awaited<ReturnType<typeof handshake>> | undefined;
    const block = await longestBlock(async () => {
      ensureMs = cpuMs(() => m.ensure(hosts));
      // The last name, long before the background comes to it: served from its stored pair.
      first = await handshake(m, 'app299.dream', ca.rootPem);
      await m.whenRead();
    });
    // Before: every pair was read (and its TLS context built) inside ensure(), ~2.6 ms a name.
    expect(ensureMs).toBeLessThan(50);
    expect(block).toBeLessThan(100);
    expect(first).toMatchObject({ authorized: true });
    expect(first!.fingerprint).toBeDefined();
    await m.tick();
    expect(m.orders).toBe(0);
    expect(m.status().filter((s) => s.state === 'issued')).toHaveLength(300);
    const last = await handshake(m, 'app0.dream', ca.rootPem);
    expect(last).toMatchObject({ authorized: true });
  }, 60_000);

  it('a first table of 3 000 new names: ensure() returns at once, their storage is read in slices, then they are ordered', async () => {
    const storage = new TlsStorage(tmp());
    const asked: string[] = [];
    // Never answers: the built-in CA's order slots keep 4 orders in flight, the rest wait.
    const issuer: Issuer = { id: 'builtin', name: 'hung CA', issue: (hosts) => { asked.push(...hosts); return new Promise<IssuedPair>(() => {}); } };
    let reports = 0; // onChange: a status report of every name to the api follows
    const m = new CertManager({ storage, issuerFor: () => issuer, onChange: () => { reports++; } });
    onCleanup(() => m.close(10));
    const hosts = Array.from({ length: 3000 }, (_, i) => `new${i}.dream`);
    let ensureMs = 0;
    const block = await longestBlock(async () => {
      ensureMs = cpuMs(() => m.ensure(hosts));
      expect(asked).toEqual([]); // nothing is ordered before its storage was read
      await m.whenRead();
    });
    expect(ensureMs).toBeLessThan(50);
    expect(block).toBeLessThan(100);
    expect(m.status()).toHaveLength(3000);
    expect(asked).toHaveLength(4);
    // The next route table, with the same names: nothing to do, nothing to report (before: a report of all 3 000).
    const before = reports;
    m.ensure(hosts);
    await m.whenRead();
    expect(reports).toBe(before);
    // One name gone, one new, as a one-route change hands them over (routes/effects.ts).
    m.change(['shop.dream'], ['new0.dream']);
    expect(m.serves('new0.dream')).toBe(false);
    expect(m.serves('shop.dream')).toBe(true);
    expect(m.hosts()).toHaveLength(3000);
    expect(reports).toBe(before + 1);
  }, 60_000);
});
