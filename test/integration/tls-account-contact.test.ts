// DREAM_ACME_EMAIL changed between restarts, against a real ACME server (Pebble): the account kept
// for the directory is reused (no second registration), and the CA is told the new contact — the
// address it sends expiry and policy notices to. It used to keep the first address for ever.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { acmeLib } from '../../apps/proxy/src/tls/acme-lib.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { TlsStorage } from '../../apps/proxy/src/tls/storage.js';
import { withPebble } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-contact-'));
let current: Certificates | undefined;
const suite = withPebble(dir, () => current);
let logged = '';

async function start(email: string): Promise<Certificates> {
  await current?.close();
  const config = loadConfig({
    DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_ACME_DIRECTORY: suite.pebble.directory, DREAM_DREAM_ACME_DIRECTORY: '',
    DREAM_ACME_CA_BUNDLE: suite.pebble.caFile, DREAM_ACME_EMAIL: email, DREAM_DNS_PORT: String(suite.dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1',
  });
  const log = pino({ level: 'info' }, { write: (s: string) => { logged += s; } });
  current = await startCertificates({ config, log, manager: { tickMs: 3_600_000 } });
  return current;
}

/** Start with `email`, then order `host` (the account is opened by the first order after a start). */
async function orderWith(email: string, host: string): Promise<void> {
  const c = await start(email);
  c.certs.ensure([host]);
  await c.certs.tick();
  expect(c.certs.status()[0], JSON.stringify(c.certs.status())).toMatchObject({ host, state: 'issued' });
}

/** The account's URL and contact as the CA has them (looked up with the stored key, as any ACME client can). */
async function atCa(): Promise<{ url: string; contact: string[] }> {
  const accountKey = fs.readFileSync(path.join(dir, 'data/tls/accounts', TlsStorage.issuerId(suite.pebble.directory), 'account.key'), 'utf8');
  const client = new (await acmeLib()).Client({ directoryUrl: suite.pebble.directory, accountKey });
  const account = await client.createAccount({ onlyReturnExisting: true });
  return { url: client.getAccountUrl(), contact: account.contact ?? [] };
}

describe('DREAM_ACME_EMAIL changed between restarts', () => {
  it('the same account gets the new address, and none once the setting is emptied', async () => {
    await orderWith('first@example.test', 'one.example.test');
    const { url } = await atCa();
    expect(await atCa()).toEqual({ url, contact: ['mailto:first@example.test'] });

    await orderWith('second@example.test', 'two.example.test');
    expect(await atCa()).toEqual({ url, contact: ['mailto:second@example.test'] }); // updated, not registered again
    expect(logged).toContain(`the ACME account's contact at ${suite.pebble.directory} is now second@example.test`);

    await orderWith('', 'three.example.test');
    expect(await atCa()).toEqual({ url, contact: [] });
  }, 30_000);

  it('account.json lost (the key kept): the account found by its key gets the current address', async () => {
    fs.rmSync(path.join(dir, 'data/tls/accounts', TlsStorage.issuerId(suite.pebble.directory), 'account.json'));
    await orderWith('third@example.test', 'four.example.test');
    expect((await atCa()).contact).toEqual(['mailto:third@example.test']);
  }, 30_000);

  it('an address the CA refuses: logged with its reason, orders go on, the old contact stays', async () => {
    await orderWith('not an address', 'five.example.test');
    expect((await atCa()).contact).toEqual(['mailto:third@example.test']);
    expect(logged).toContain(`the ACME account's contact at ${suite.pebble.directory} could not be changed to not an address (orders go on; tried again at the next start): contact email \\"not an address\\" is invalid`);
  }, 30_000);
});
