// The order lock across real processes: a second process holding a name's lock keeps this one from
// ordering it; that process being killed (kill -9, no cleanup) does not block the name for long;
// and waiting for another process's lock does not use up the account's order throttle.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuiltinCa } from './ca.js';
import { BuiltinIssuer, type Issuer } from './issuer.js';
import { CertManager } from './manager.js';
import { ManualClock } from './renewal.js';
import { TlsStorage } from './storage.js';
import { handshake, onCleanup, tmp } from './test-support.js';


/** Another process on the same data dir that takes `name`'s order lock and keeps it until killed. */
async function holder(dir: string, name: string) {
  const code = `import { TlsStorage } from ${JSON.stringify(path.join(__dirname, 'storage.ts'))};
    if (!new TlsStorage(${JSON.stringify(dir)}).tryLock(${JSON.stringify(name)}, 600000)) { console.log('busy'); process.exit(1); }
    console.log('locked'); setInterval(() => {}, 1000);`;
  // node itself (tsx as a loader): the tsx CLI would run it in a grandchild that SIGKILL misses.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  onCleanup(() => { child.kill('SIGKILL'); });
  const line = await new Promise<string>((resolve) => { let out = ''; child.stdout!.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out.trim()); }); child.once('exit', () => resolve(out.trim() || 'exited')); });
  expect(line).toBe('locked');
  return { crash: () => new Promise<void>((r) => { child.once('exit', () => r()); child.kill('SIGKILL'); }) };
}

describe('order lock across processes', () => {
  it('another process holding the lock keeps us from ordering; once it is killed the name is ordered without waiting out the stale timeout', async () => {
    const dir = tmp();
    const storage = new TlsStorage(dir);
    const ca = await BuiltinCa.open(storage);
    const clock = new ManualClock(Date.now());
    const mgr = new CertManager({ storage, clock, issuerFor: () => new BuiltinIssuer(ca) });
    onCleanup(() => mgr.close());
    const other = await holder(dir, 'hello.dream');
    mgr.ensure(['hello.dream']);
    await mgr.tick();
    expect(mgr.orders).toBe(0);
    expect(mgr.status()).toMatchObject([{ host: 'hello.dream', state: 'pending' }]);
    await other.crash(); // its lock file stays behind
    clock.advance(5_000);
    await mgr.tick();
    expect(mgr.orders).toBe(1);
    expect(mgr.status()).toMatchObject([{ host: 'hello.dream', state: 'issued' }]);
    expect((await handshake(mgr, 'hello.dream', ca.rootPem)).authorized).toBe(true);
  }, 30_000);

  it('a handshake does not wait for an order whose lock a killed process left behind', async () => {
    const dir = tmp();
    const mgr = new CertManager({ storage: new TlsStorage(dir), issuerFor: () => ({ id: 'https://ca.test/directory', name: 'ca.test', issue: () => Promise.reject(new Error('CA is down')) }) });
    onCleanup(() => mgr.close());
    mgr.ensure(['down.dream']);
    await mgr.tick();
    expect(mgr.status()).toMatchObject([{ host: 'down.dream', state: 'failing' }]);
    const other = await holder(dir, 'down.dream');
    await other.crash(); // a fresh lock file whose holder is gone: no order is in flight
    const t0 = Date.now();
    expect(await mgr.secureContextSoon('down.dream')).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000); // not the whole 5 s wait
  }, 30_000);

  it('waiting for another process\'s lock does not count against the account\'s order throttle', async () => {
    const dir = tmp();
    const storage = new TlsStorage(dir);
    const ca = await BuiltinCa.open(storage);
    const builtin = new BuiltinIssuer(ca);
    // An ACME-like issuer (the throttle applies to ACME accounts), signing with the built-in CA.
    const acmeLike: Issuer = { id: 'https://ca.test/directory', name: 'ca.test', issue: (h, clock) => builtin.issue(h, clock) };
    const clock = new ManualClock(Date.now());
    const mgr = new CertManager({ storage, clock, issuerFor: () => acmeLike, throttle: { max: 1, windowMs: 3600_000 } });
    onCleanup(() => mgr.close());
    const release = new TlsStorage(dir).tryLock('hello.dream', 600_000)!; // as another proxy would
    mgr.ensure(['hello.dream']);
    await mgr.tick();
    clock.advance(5_000);
    await mgr.tick();
    expect(mgr.orders).toBe(0);
    release();
    clock.advance(5_000);
    await mgr.tick();
    expect(mgr.orders).toBe(1);
    expect((await handshake(mgr, 'hello.dream', ca.rootPem)).authorized).toBe(true);
  });
});
