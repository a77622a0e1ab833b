// What a proxy restarted after trouble does, against a real ACME server (Pebble), a real api and the
// real CLI: a failed order is not sent again before its backoff ends (Let's Encrypt allows 5 failed
// validations per name per hour), a name the order throttle holds back says so in `dream domains`,
// damaged ACME account files are replaced by a new registration, and a damaged .dream root stops
// main.ts with one sentence.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../apps/api/src/test-support.js';
import { run } from '../../apps/cli/src/run.js';
import { ManualClock } from '../../apps/proxy/src/tls/renewal.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { TlsStorage } from '../../apps/proxy/src/tls/storage.js';
import { freePort, http01Responder, type Pebble, startPebble } from './tls-pebble.js';

let t: Awaited<ReturnType<typeof testApi>>;
let apiUrl: string;
let pebble: Pebble;
let httpServer: http.Server;
let httpPort: number;
let dnsPort: number;
let current: Certificates | undefined;
/** While set, our HTTP-01 answers are wrong: Pebble's validation fails, as a name not pointed at us would. */
let sabotage = false;
let logged = '';
const clock = new ManualClock(Date.now());

async function start(): Promise<Certificates> {
  await current?.close();
  const config = loadConfig({
    DREAM_DATA_DIR: t.dataDir, DREAM_API_URL: apiUrl, DREAM_ACME_DIRECTORY: pebble.directory, DREAM_DREAM_ACME_DIRECTORY: '',
    DREAM_ACME_CA_BUNDLE: pebble.caFile, DREAM_DNS_PORT: String(dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1',
  });
  const log = pino({ level: 'info' }, { write: (s: string) => { logged += s; } });
  current = await startCertificates({
    config, log, token: t.internalToken, proxyId: 'proxy-recovery',
    manager: { clock, tickMs: 3_600_000, backoff: { minMs: 60_000, maxMs: 3600_000 }, throttle: { max: 1, windowMs: 3600_000 } },
  });
  return current;
}

async function dream(...argv: string[]): Promise<string> {
  let out = '';
  const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { out += s; }, env: { HOME: path.join(t.dataDir, 'home') }, stdin: process.stdin, now: () => new Date() };
  expect(await run(['--url', apiUrl, '--token', t.admin, ...argv], io)).toBe(0);
  return out;
}

/** `dream domains hello` once the proxy's report for `host` says `state` (the reporter is debounced). */
async function domainsWhen(host: string, state: string): Promise<string> {
  for (let i = 0; i < 50 && t.store.domains.certStatus(host)?.state !== state; i++) await new Promise((r) => setTimeout(r, 100));
  return dream('domains', 'hello');
}

const accountDir = () => path.join(t.dataDir, 'tls/accounts', TlsStorage.issuerId(pebble.directory));

beforeAll(async () => {
  t = await testApi();
  apiUrl = await t.app.listen({ port: 0, host: '127.0.0.1' });
  [httpPort, dnsPort] = [await freePort(), await freePort()];
  pebble = await startPebble(path.join(t.dataDir, 'pebble'), { httpPort, dnsPort });
  httpServer = await http01Responder(httpPort, (token) => (sabotage ? undefined : current?.certs.httpChallenge(token)));
  await dream('apps', 'create', 'hello');
  for (const h of ['www.example.test', 'two.example.test', 'three.example.test']) await dream('domains', 'add', 'hello', h);
}, 120_000);

afterAll(async () => {
  await current?.close();
  await pebble?.stop();
  await new Promise((r) => (httpServer ? httpServer.close(r) : r(undefined)));
  await t?.app.close();
});

describe('a proxy restarted after trouble', () => {
  it('a failed validation is not ordered again at restart before its backoff ends; dream domains says failing, why and when', async () => {
    sabotage = true;
    const a = await start();
    a.certs.ensure(['www.example.test']);
    await a.certs.tick();
    const failed = a.certs.status()[0]!;
    expect(failed.state, JSON.stringify(failed)).toBe('failing');
    const orders = pebble.orders();
    expect(orders).toBe(1);

    const b = await start(); // the restart
    b.certs.ensure(['www.example.test']);
    await b.certs.tick();
    expect(pebble.orders()).toBe(orders); // nothing reached the CA
    expect(b.certs.status()[0]).toEqual(failed);
    expect(logged).toMatch(/"host":"www\.example\.test".*certificate order held back: it failed before/);
    const out = await domainsWhen('www.example.test', 'failing');
    expect(out).toContain(`${failed.error} (next try ${failed.nextAttemptAt})`);
    expect(out).toMatch(/www\.example\.test\s+custom\s+failing\s+127\.0\.0\.1:\d+\s+Non-200 status code from HTTP: \S+ returned 404 \(next try /);

    sabotage = false;
    clock.advance(3600_000); // past the backoff (1 min), and past a's order in the account's throttle (1 an hour; a restart keeps it)
    await b.certs.tick();
    expect(b.certs.status()[0]).toMatchObject({ state: 'issued', error: undefined });
    expect(pebble.orders()).toBe(orders + 1);
    expect(fs.readdirSync(path.join(t.dataDir, 'tls/backoff'), { recursive: true }).filter((f) => String(f).endsWith('.json'))).toEqual([]);
  }, 60_000);

  it('a name held back by the order throttle: dream domains says throttled and until when', async () => {
    const c = current!; // its one order an hour went to www.example.test
    c.certs.ensure(['www.example.test', 'two.example.test']);
    await c.certs.tick();
    const held = c.certs.status().find((s) => s.host === 'two.example.test')!;
    expect(held).toMatchObject({ state: 'pending', error: expect.stringMatching(/^throttled: /) });
    expect(held.nextAttemptAt).toBe(new Date(clock.now() + 3600_000).toISOString()); // an hour after that order
    // One warn line for the account's names held back together (written a second after the last): this one.
    await expect.poll(() => logged, { timeout: 5000 }).toMatch(/"names":1,"hosts":\["two\.example\.test"\].*certificate order held back: throttled/);
    for (let i = 0; i < 50 && !t.store.domains.certStatus('two.example.test')?.error; i++) await new Promise((r) => setTimeout(r, 100));
    const out = await dream('domains', 'hello');
    expect(out).toMatch(new RegExp(`two\\.example\\.test\\s+custom\\s+pending\\s+127\\.0\\.0\\.1:\\d+\\s+throttled: this ACME account already placed 1 orders in the last 1 h.* \\(next try ${held.nextAttemptAt!.replace(/\./g, '\\.')}\\)`));
  }, 60_000);

  it('a damaged account.json: logged by name, registered again (the key finds its account), the file replaced, the order issued', async () => {
    const file = path.join(accountDir(), 'account.json');
    clock.advance(3600_000); // the account's one order an hour (this suite's throttle) went to the previous test
    fs.writeFileSync(file, '{"url": "https://127.0.0.1:1/my-acc');
    const accounts = pebble.accounts();
    const c = await start();
    c.certs.ensure(['two.example.test']);
    await c.certs.tick();
    expect(c.certs.status()[0], JSON.stringify(c.certs.status())).toMatchObject({ state: 'issued' });
    expect(pebble.accounts()).toBeGreaterThan(accounts);
    expect(logged).toContain(`the ACME account file ${file} is damaged; registering with ${pebble.directory} again (the file is replaced)`);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/my-account\//);
  }, 60_000);

  it('a truncated account.key: a new key (0600) and a new account, the order issued', async () => {
    const file = path.join(accountDir(), 'account.key');
    clock.advance(3600_000); // the account's one order an hour (this suite's throttle) went to the previous test
    fs.mkdirSync(accountDir(), { recursive: true });
    fs.writeFileSync(file, '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg', { mode: 0o600 });
    const accounts = pebble.accounts();
    const c = await start();
    c.certs.ensure(['three.example.test']);
    await c.certs.tick();
    expect(c.certs.status()[0], JSON.stringify(c.certs.status())).toMatchObject({ state: 'issued' });
    expect(pebble.accounts()).toBe(accounts + 1);
    expect(logged).toContain(`the ACME account file ${file} is damaged`);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  }, 60_000);
});

describe('main.ts with a damaged .dream root', () => {
  it.each([['1'], ['2']])('stops with ROOT_CA_UNUSABLE and a sentence, exit 2, the root left alone (%s worker(s))', async (workers) => {
    const dataDir = fs.mkdtempSync(path.join(t.dataDir, 'main-'));
    const pem = path.join(dataDir, 'tls/ca/root.pem');
    fs.mkdirSync(path.dirname(pem), { recursive: true });
    fs.writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n');
    fs.writeFileSync(path.join(dataDir, 'tls/ca/root.key'), 'x', { mode: 0o600 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, DREAM_DATA_DIR: dataDir, DREAM_API_URL: apiUrl, DREAM_INTERNAL_TOKEN: t.internalToken, DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(await freePort()), DREAM_HTTPS_PORT: String(await freePort()), DREAM_DNS_PORT: '0', DREAM_PROXY_WORKERS: workers, DREAM_DREAM_ACME_DIRECTORY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, out).toBe(2);
    const line = JSON.parse(out.trim().split('\n').find((l) => l.includes('ROOT_CA_UNUSABLE'))!) as { level: number; code: string; msg: string };
    expect(line).toMatchObject({ level: 60, code: 'ROOT_CA_UNUSABLE' });
    expect(line.msg).toContain(`The built-in .dream root CA cannot be used: ${pem} is not a readable certificate`);
    expect(line.msg).toContain('run `dream trust` again on every client');
    expect(out).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readFileSync(pem, 'utf8')).toBe('-----BEGIN CERTIFICATE-----\nMIIB\n');
  }, 30_000);
});
