import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { acmeEab, checkSettingFiles, readCaBundle, readDefaultCertificate } from './setting-files.js';
import { ProxyStartupError } from './startup-errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'setting-files-'));
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
const otherKey = path.join(dir, 'other-key.pem');

beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=x'], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKey], { stdio: 'ignore' });
});

/** The error a call throws: catalogued code and the sentence an operator reads. */
function failure(f: () => unknown): { code: string; message: string } {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(ProxyStartupError); return e as ProxyStartupError; }
  throw new Error('did not throw');
}

describe('readDefaultCertificate', () => {
  it('returns the pair, or null when neither setting is set', () => {
    expect(readDefaultCertificate({ tlsCertFile: cert, tlsKeyFile: key })?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(readDefaultCertificate({ tlsCertFile: '', tlsKeyFile: '' })).toBeNull();
  });

  it('names the settings and the fix for a missing file, a lone setting and a key of another certificate', () => {
    const missing = failure(() => readDefaultCertificate({ tlsCertFile: path.join(dir, 'nope.pem'), tlsKeyFile: key }));
    expect(missing.code).toBe('SETTING_FILE_UNREADABLE');
    expect(missing.message).toContain(`DREAM_TLS_CERT_FILE (${dir}/nope.pem) and DREAM_TLS_KEY_FILE (${key}): ENOENT`);
    expect(missing.message).toContain('or unset both');
    expect(failure(() => readDefaultCertificate({ tlsCertFile: cert, tlsKeyFile: '' })).message).toContain('DREAM_TLS_KEY_FILE (unset): only one of the two is set');
    expect(failure(() => readDefaultCertificate({ tlsCertFile: cert, tlsKeyFile: otherKey })).message).toMatch(/key values mismatch/);
  });
});

describe('readCaBundle', () => {
  it('returns the PEM, or undefined when unset', () => {
    expect(readCaBundle(cert)).toBe(fs.readFileSync(cert, 'utf8'));
    expect(readCaBundle('')).toBeUndefined();
  });

  it('refuses a missing file and a file holding no certificate, naming the setting', () => {
    expect(failure(() => readCaBundle(path.join(dir, 'nope.pem'))).message).toContain(`DREAM_ACME_CA_BUNDLE (${dir}/nope.pem): ENOENT`);
    const notPem = path.join(dir, 'bundle.txt');
    fs.writeFileSync(notPem, 'hello\n');
    const e = failure(() => readCaBundle(notPem));
    expect(e).toMatchObject({ code: 'SETTING_FILE_UNREADABLE' });
    expect(e.message).toContain(`DREAM_ACME_CA_BUNDLE (${notPem}): it holds no PEM certificate. Point it at a readable PEM file`);
  });
});

describe('acmeEab', () => {
  const HMAC = 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W'; // base64url, as CAs hand it out

  it('is the binding when both settings are set, undefined when neither is', () => {
    expect(acmeEab({ acmeEabKid: 'kid-1', acmeEabHmac: HMAC })).toEqual({ kid: 'kid-1', hmacKey: HMAC });
    expect(acmeEab({ acmeEabKid: '', acmeEabHmac: '' })).toBeUndefined();
  });

  it('refuses one of the pair without the other, and an HMAC key that is not base64url, naming the settings', () => {
    // Before, either one alone was dropped without a word and the account registered without EAB.
    const lone = failure(() => acmeEab({ acmeEabKid: 'kid-1', acmeEabHmac: '' }));
    expect(lone.code).toBe('SETTING_INVALID');
    expect(lone.message).toContain('DREAM_ACME_EAB_KID (set) and DREAM_ACME_EAB_HMAC (unset): only one of the two is set');
    expect(failure(() => acmeEab({ acmeEabKid: '', acmeEabHmac: HMAC })).message).toContain('DREAM_ACME_EAB_KID (unset) and DREAM_ACME_EAB_HMAC (set)');
    const garbled = failure(() => acmeEab({ acmeEabKid: 'kid-1', acmeEabHmac: 'not a key!' }));
    expect(garbled.code).toBe('SETTING_INVALID');
    expect(garbled.message).toContain('DREAM_ACME_EAB_HMAC is not a base64url key');
    expect(garbled.message).not.toContain('not a key!'); // a secret: never echoed
  });

  it('is checked with the files when HTTPS is on', () => {
    expect(failure(() => checkSettingFiles({ tlsCertFile: '', tlsKeyFile: '', acmeCaBundle: '', acmeEabKid: 'kid-1', acmeEabHmac: '', httpsPort: 443 })).code).toBe('SETTING_INVALID');
  });
});

describe('checkSettingFiles', () => {
  it('checks both kinds when HTTPS is on, nothing when it is off', () => {
    const bad = { tlsCertFile: '', tlsKeyFile: '', acmeCaBundle: path.join(dir, 'nope.pem'), acmeEabKid: '', acmeEabHmac: '' };
    expect(failure(() => checkSettingFiles({ ...bad, httpsPort: 443 })).code).toBe('SETTING_FILE_UNREADABLE');
    expect(() => checkSettingFiles({ ...bad, httpsPort: 0 })).not.toThrow();
  });
});
