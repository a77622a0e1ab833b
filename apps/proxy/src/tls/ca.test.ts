// A damaged built-in root stops start-up with a sentence that names the file and what to do; it is
// never replaced silently (clients that ran `dream trust` trust that root).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProxyStartupError } from '../startup-errors.js';
import { BuiltinCa } from './ca.js';
import { TlsStorage } from './storage.js';
import { tmp } from './test-support.js';

async function withRoot() {
  const dir = tmp();
  const storage = new TlsStorage(dir);
  const ca = await BuiltinCa.open(storage);
  const pem = path.join(dir, 'tls/ca/root.pem');
  const key = path.join(dir, 'tls/ca/root.key');
  return { dir, storage, ca, pem, key };
}

async function refusal(storage: TlsStorage): Promise<ProxyStartupError> {
  const e = await BuiltinCa.open(storage).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProxyStartupError);
  return e as ProxyStartupError;
}

describe('a damaged .dream root CA', () => {
  it('a truncated root.pem: a sentence naming the file and what to do, and the files stay as they were', async () => {
    const { storage, pem, key, dir } = await withRoot();
    fs.writeFileSync(pem, fs.readFileSync(pem, 'utf8').slice(0, 200));
    const [pemBefore, keyBefore] = [fs.readFileSync(pem, 'utf8'), fs.readFileSync(key, 'utf8')];
    const e = await refusal(storage);
    expect(e.code).toBe('ROOT_CA_UNUSABLE');
    expect(e.message).toContain(`The built-in .dream root CA cannot be used: ${pem} is not a readable certificate`);
    expect(e.message).toContain(`move both out of ${path.join(dir, 'tls/ca')} to have a new root made at the next start, then run \`dream trust\` again on every client.`);
    expect([fs.readFileSync(pem, 'utf8'), fs.readFileSync(key, 'utf8')]).toEqual([pemBefore, keyBefore]);
  });

  it('garbage in root.key, a key of another root, or no key beside the certificate', async () => {
    const { storage, key } = await withRoot();
    const other = await withRoot();
    fs.writeFileSync(key, 'not a key\n');
    expect((await refusal(storage)).message).toContain(`its private key ${key} cannot be used`);
    fs.copyFileSync(other.key, key);
    expect((await refusal(storage)).message).toContain(`its private key ${key} cannot be used (it is the key of another certificate)`);
    fs.rmSync(key);
    expect((await refusal(storage)).message).toContain(`its private key ${key} is missing`);
  });

  it('moved away as the message says: a new root is made', async () => {
    const { storage, ca, pem, key } = await withRoot();
    fs.writeFileSync(pem, 'garbage');
    await refusal(storage);
    fs.rmSync(pem);
    fs.rmSync(key);
    const fresh = await BuiltinCa.open(storage);
    expect(fresh.rootPem).not.toBe(ca.rootPem);
    expect((await BuiltinCa.open(storage)).rootPem).toBe(fresh.rootPem);
  });
});
