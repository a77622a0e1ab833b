// DREAM_ACME_EAB_KID changed between restarts, against a real ACME server (Pebble) that requires an
// external account binding: the new key id gets an account of its own, registered with its binding —
// before, the account registered with the first key id was kept, bound to that external account (at
// ZeroSSL or Google: orders billed to it, or refused once its key is revoked). Switching back reuses
// the first account; an account a data dir from before key ids were told apart holds is reused too.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@dreamnet/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { acmeLib } from '../../apps/proxy/src/tls/acme-lib.js';
import { startCertificates, type Certificates } from '../../apps/proxy/src/tls/start.js';
import { TlsStorage } from '../../apps/proxy/src/tls/storage.js';
import { withPebble } from './tls-pebble.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-eab-'));
const keys = { 'kid-a': crypto.randomBytes(32).toString('base64url'), 'kid-b': crypto.randomBytes(32).toString('base64url') };
type Kid = keyof typeof keys;
let current: Certificates | undefined;
const suite = withPebble(dir, () => current, { config: { externalAccountBindingRequired: true, externalAccountMACKeys: keys } });
/** What acme-client sent: the EAB key id of each newAccount, the account (JWS kid) of each newOrder. */
const sent = { registrations: [] as Array<string | undefined>, orderAccounts: [] as string[] };

/** Start with `kid` on data dir `data`, order `host`; the account the order was placed with. */
async function orderWith(kid: Kid, host: string, data = 'data'): Promise<string> {
  await current?.close();
  const config = loadConfig({
    DREAM_DATA_DIR: path.join(dir, data), DREAM_ACME_DIRECTORY: suite.pebble.directory, DREAM_DREAM_ACME_DIRECTORY: '',
    DREAM_ACME_CA_BUNDLE: suite.pebble.caFile, DREAM_ACME_EAB_KID: kid, DREAM_ACME_EAB_HMAC: keys[kid],
    DREAM_DNS_PORT: String(suite.dnsPort), DREAM_EDGE_ADDRESS: '127.0.0.1',
  });
  current = await startCertificates({ config, manager: { tickMs: 3_600_000 } });
  current.certs.ensure([host]);
  await current.certs.tick();
  expect(current.certs.status()[0], JSON.stringify(current.certs.status())).toMatchObject({ host, state: 'issued' });
  return sent.orderAccounts.at(-1)!;
}

const decode = (b64: string) => JSON.parse(Buffer.from(b64, 'base64url').toString()) as Record<string, unknown>;

beforeAll(async () => {
  (await acmeLib()).axios.interceptors.request.use((cfg) => {
    const jws = cfg.method === 'post' ? (typeof cfg.data === 'string' ? JSON.parse(cfg.data) : cfg.data) as { protected: string; payload: string } : undefined;
    if (jws && /\/sign-me-up$/.test(cfg.url ?? '')) {
      const eab = decode(jws.payload).externalAccountBinding as { protected: string } | undefined;
      if (!decode(jws.payload).onlyReturnExisting) sent.registrations.push(eab ? String(decode(eab.protected).kid) : undefined);
    }
    if (jws && /\/order-plz$/.test(cfg.url ?? '')) sent.orderAccounts.push(String(decode(jws.protected).kid));
    return cfg;
  });
});

describe('DREAM_ACME_EAB_KID changed between restarts', () => {
  it('a new key id registers an account bound to it; switching back reuses the first account', async () => {
    const a = await orderWith('kid-a', 'one.example.test');
    expect(sent.registrations).toEqual(['kid-a']);
    const accountsA = suite.pebble.accounts();

    const b = await orderWith('kid-b', 'two.example.test');
    expect(sent.registrations).toEqual(['kid-a', 'kid-b']); // Pebble accepted a newAccount bound to kid-b
    expect(suite.pebble.accounts()).toBe(accountsA + 1);
    expect(b).not.toBe(a); // and the order went to that account, not kid-a's

    expect(await orderWith('kid-a', 'three.example.test')).toBe(a); // kid-a's files were kept
    expect(await orderWith('kid-b', 'four.example.test')).toBe(b);
    expect(sent.registrations).toEqual(['kid-a', 'kid-b']); // nothing registered again
  }, 60_000);

  it('an account stored by an earlier version (one per directory, key id not recorded) is kept for the key id set now', async () => {
    // What earlier versions left: account.key + account.json under accounts/<directory>/, registered
    // with the binding set then (at Google an EAB key registers one account only: a new registration
    // with it would fail).
    const acme = await acmeLib();
    const accountKey = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
    const client = new acme.Client({ directoryUrl: suite.pebble.directory, accountKey, externalAccountBinding: { kid: 'kid-a', hmacKey: keys['kid-a'] } });
    await client.createAccount({ termsOfServiceAgreed: true });
    const old = path.join(dir, 'old/tls/accounts', TlsStorage.issuerId(suite.pebble.directory));
    fs.mkdirSync(old, { recursive: true });
    fs.writeFileSync(path.join(old, 'account.key'), accountKey, { mode: 0o600 });
    fs.writeFileSync(path.join(old, 'account.json'), JSON.stringify({ url: client.getAccountUrl(), directoryUrl: suite.pebble.directory, email: null }));
    const registered = sent.registrations.length;

    expect(await orderWith('kid-a', 'five.example.test', 'old')).toBe(client.getAccountUrl());
    expect(sent.registrations.length).toBe(registered); // none
    // Another key id after that is a new account, not this one again.
    expect(await orderWith('kid-b', 'six.example.test', 'old')).not.toBe(client.getAccountUrl());
    expect(sent.registrations.slice(registered)).toEqual(['kid-b']);
    expect(await orderWith('kid-a', 'seven.example.test', 'old')).toBe(client.getAccountUrl());
  }, 60_000);
});
