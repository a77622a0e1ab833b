// Files that settings name (the default certificate pair, the extra ACME CA bundle) are read once
// at start. A wrong path or a file of the wrong kind stops start-up with a sentence naming the
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

/** Everything above, for the cluster primary to check before forking workers. */
export function checkSettingFiles(c: Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'acmeCaBundle' | 'httpsPort'>): void {
  if (c.httpsPort === 0) return;
  readDefaultCertificate(c);
  readCaBundle(c.acmeCaBundle);
}
