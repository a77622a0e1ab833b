// Files that settings name (the default certificate pair, the extra ACME CA bundle), and the ACME
// EAB pair, are read once at start. A wrong path or a file of the wrong kind stops start-up with a sentence naming the
// setting (SETTING_FILE_UNREADABLE), not a raw ENOENT stack — and in the cluster primary, before
// any worker is forked, so workers are not re-forked forever over a typo.
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import type { Config } from '@dreamnet/core';
import { ProxyStartupError } from './startup-errors.js';

export interface DefaultPem { cert: Buffer; key: Buffer }

const unreadable = (what: string, why: string, fix: string) =>
  new ProxyStartupError('SETTING_FILE_UNREADABLE', `${what}: ${why}. ${fix}`);

/** The operator's default certificate pair, or null when neither setting is set. */
export function readDefaultCertificate(c: Pick<Config, 'tlsCertFile' | 'tlsKeyFile'>): DefaultPem | null {
  if (!c.tlsCertFile && !c.tlsKeyFile) return null;
  const what = `DREAM_TLS_CERT_FILE (${c.tlsCertFile || 'unset'}) and DREAM_TLS_KEY_FILE (${c.tlsKeyFile || 'unset'})`;
  const fix = 'Point both at readable PEM files of one certificate and its key, or unset both.';
  if (!c.tlsCertFile || !c.tlsKeyFile) throw unreadable(what, 'only one of the two is set', fix);
  try {
    const pem = { cert: fs.readFileSync(c.tlsCertFile), key: fs.readFileSync(c.tlsKeyFile) };
    tls.createSecureContext(pem);
    return pem;
  } catch (e) {
    throw unreadable(what, (e as Error).message, fix);
  }
}

/** The extra CA certificates for talking to the ACME directory, or undefined when unset. */
export function readCaBundle(file: string): string | undefined {
  if (!file) return undefined;
  const what = `DREAM_ACME_CA_BUNDLE (${file})`;
  const fix = 'Point it at a readable PEM file of the CA certificates the ACME directory\'s HTTPS chains to, or unset it.';
  let pem: string;
  try { pem = fs.readFileSync(file, 'utf8'); } catch (e) { throw unreadable(what, (e as Error).message, fix); }
  try { new crypto.X509Certificate(pem); } catch { throw unreadable(what, 'it holds no PEM certificate', fix); }
  return pem;
}

// A CA's EAB HMAC key: base64url (RFC 8555 §7.3.4), some hand it out in plain base64.
const HMAC_KEY = /^[A-Za-z0-9_+/-]+={0,2}$/;

/**
 * The ACME external account binding, or undefined when neither setting is set. One of the pair
 * alone was dropped without a word: the account registered without EAB and every order failed
 * with the CA's "must include externalAccountBinding" on each domain. The key is a secret: a
 * refused one is described, never echoed.
 */
export function acmeEab(c: Pick<Config, 'acmeEabKid' | 'acmeEabHmac'>): { kid: string; hmacKey: string } | undefined {
  if (!c.acmeEabKid && !c.acmeEabHmac) return undefined;
  const set = (v: string) => (v ? 'set' : 'unset');
  if (!c.acmeEabKid || !c.acmeEabHmac) {
    throw new ProxyStartupError('SETTING_INVALID', `DREAM_ACME_EAB_KID (${set(c.acmeEabKid)}) and DREAM_ACME_EAB_HMAC (${set(c.acmeEabHmac)}): only one of the two is set. Set both to the key id and HMAC key your CA gave you for external account binding, or unset both.`);
  }
  if (!HMAC_KEY.test(c.acmeEabHmac)) {
    throw new ProxyStartupError('SETTING_INVALID', `DREAM_ACME_EAB_HMAC is not a base64url key (${c.acmeEabHmac.length} characters, not all of A-Z a-z 0-9 - _). Copy the HMAC key exactly as your CA shows it.`);
  }
  return { kid: c.acmeEabKid, hmacKey: c.acmeEabHmac };
}

/** Everything above, for the cluster primary to check before forking workers. */
export function checkSettingFiles(c: Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'acmeCaBundle' | 'acmeEabKid' | 'acmeEabHmac' | 'httpsPort'>): void {
  if (c.httpsPort === 0) return;
  readDefaultCertificate(c);
  readCaBundle(c.acmeCaBundle);
  acmeEab(c);
}
