// The ACME account for one directory and EAB key id: its key is generated once and kept (0600) under
// tls/accounts/<directory id>/ (eab-<key id>/ below it with EAB: account-files.ts), registration
// (contact e-mail, external account binding) happens on the first order, and the account URL is
// remembered so later runs skip it.
import crypto from 'node:crypto';
import type * as acme from 'acme-client';
import type { Logger } from 'pino';
import { accountDir, claimEarlierAccount } from './account-files.js';
import { acmeLib } from './acme-lib.js';
import { TlsStorage } from './storage.js';

export interface AccountOptions {
  directoryUrl: string;
  email?: string;
  /** External account binding, for CAs that require one (kid + base64url HMAC key). */
  eab?: { kid: string; hmacKey: string };
}

export class AcmeAccount {
  private client?: Promise<acme.Client>;
  /** The CA said it has no account for our key: registering need not look for one first. */
  private unknownAtCa = false;
  private readonly dir: string;
  constructor(private readonly storage: TlsStorage, readonly opts: AccountOptions, private readonly log?: Logger) {
    this.dir = accountDir(opts.directoryUrl, opts.eab?.kid);
  }

  /**
   * A client registered with the directory (registers on first use). Single-flight: concurrent
   * first orders must not each make a key and an account (the stored key and URL would mismatch,
   * and every later request fail JWS verification).
   */
  ready(): Promise<acme.Client> {
    this.client ??= this.open().catch((e) => { this.client = undefined; throw e; });
    return this.client;
  }

  /**
   * After a failed request: whether the CA has no account for our stored URL any more (a reset
   * private CA, an account purged at the CA). If so the stored URL is dropped, so that the next
   * ready() registers again (same key) instead of every order failing until someone deletes files.
   * The problem type is only in the response body, which acme-client folds into an error message,
   * so the account URL is asked directly (acme-client's signing, as its own requests do).
   */
  async forgotten(): Promise<boolean> {
    const client = await this.client?.catch(() => undefined);
    let url: string | undefined;
    try { url = client?.getAccountUrl(); } catch { return false; }
    if (!client || !url) return false;
    type Signer = { api: { http: { signedRequest(u: string, payload: object, o: { kid: string }): Promise<{ data?: { type?: string } }> } } };
    const res = await (client as unknown as Signer).api.http.signedRequest(url, {}, { kid: url }).catch(() => undefined);
    if (res?.data?.type !== 'urn:ietf:params:acme:error:accountDoesNotExist') return false;
    this.storage.remove(`${this.dir}/account.json`);
    this.client = undefined;
    this.unknownAtCa = true;
    return true;
  }

  // Under a storage lock too: sibling workers on the same data dir start their first orders together.
  private async open(): Promise<acme.Client> {
    for (let i = 0; ; i++) {
      const release = this.storage.tryLock(`account-${TlsStorage.issuerId(this.opts.directoryUrl)}`, 120_000);
      if (release) { try { return await this.openLocked(); } finally { release(); } }
      if (i > 1200) throw new Error('timed out waiting for another process to register the ACME account');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async openLocked(): Promise<acme.Client> {
    const acme = await acmeLib();
    if (this.opts.eab) claimEarlierAccount(this.storage, this.opts.directoryUrl, this.opts.eab.kid, this.log);
    let keyPem = this.usable(`${this.dir}/account.key`, (t) => { crypto.createPrivateKey(t); });
    const keptKey = keyPem !== undefined;
    if (!keyPem) {
      keyPem = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
      this.storage.write(`${this.dir}/account.key`, keyPem, true);
      this.storage.remove(`${this.dir}/account.json`); // its URL belongs to the old key
    }
    const json = this.usable(`${this.dir}/account.json`, (t) => { if (typeof (JSON.parse(t) as { url?: unknown }).url !== 'string') throw new Error('no account URL in it'); });
    const saved = JSON.parse(json ?? '{}') as { url?: string; email?: string | null; eabKid?: string | null };
    const client = new acme.Client({
      directoryUrl: this.opts.directoryUrl,
      accountKey: keyPem,
      accountUrl: saved.url,
      externalAccountBinding: this.opts.eab,
      // Status polling during an order: quick at first (Pebble and LE validate in seconds).
      backoffAttempts: 12, backoffMin: 250, backoffMax: 5000,
    });
    const email = this.opts.email ?? null;
    if (!saved.url) {
      // A kept key may have an account already (its URL lost with account.json): asked for as new,
      // acme-client then "updates" it with a body CAs refuse as empty when there is no e-mail.
      const found = keptKey && !this.unknownAtCa ? await client.createAccount({ onlyReturnExisting: true }).catch(() => undefined) : undefined;
      this.unknownAtCa = false;
      if (!found) await client.createAccount({ termsOfServiceAgreed: true, contact: email ? [`mailto:${email}`] : undefined });
      const told = !found || sameContact(found.contact, email) || await this.updateContact(client, email);
      this.saveAccount(client, told ? email : undefined, this.opts.eab?.kid ?? null);
    } else if ((!('email' in saved) || saved.email !== email) && await this.updateContact(client, email)) {
      this.saveAccount(client, email, saved.eabKid);
    }
    return client;
  }

  /**
   * DREAM_ACME_EMAIL changed since the account was registered: tell the CA (RFC 8555 §7.3.2), which
   * otherwise sends its expiry and policy notices to the old address for ever. A CA that refuses
   * the address does not stop orders (a renewal matters more); it is logged, and tried again at the
   * next start.
   */
  private async updateContact(client: acme.Client, email: string | null): Promise<boolean> {
    try {
      await client.updateAccount({ contact: email ? [`mailto:${email}`] : [] });
      this.log?.info({ directory: this.opts.directoryUrl }, `the ACME account's contact at ${this.opts.directoryUrl} is now ${email ?? 'none'}`);
      return true;
    } catch (e) {
      this.log?.warn({ directory: this.opts.directoryUrl, err: (e as Error).message }, `the ACME account's contact at ${this.opts.directoryUrl} could not be changed to ${email ?? 'none'} (orders go on; tried again at the next start): ${(e as Error).message}`);
      return false;
    }
  }

  /**
   * `email`: the contact the CA has; undefined = not known to be the setting's (asked again next time).
   * `eabKid`: the key id the account was registered with (null: none; undefined: an earlier version
   * registered it and did not say, see claimEarlierAccount()).
   */
  private saveAccount(client: acme.Client, email: string | null | undefined, eabKid: string | null | undefined): void {
    this.storage.write(`${this.dir}/account.json`, JSON.stringify({ url: client.getAccountUrl(), directoryUrl: this.opts.directoryUrl, email, eabKid }, null, 2));
  }

  /**
   * A stored file's text, or undefined when it is missing or damaged (a truncated write by an older
   * version, a disk error, a hand edit): a damaged account is then treated like an unknown one and
   * registered anew, instead of failing every order until someone deletes the file.
   */
  private usable(rel: string, check: (text: string) => void): string | undefined {
    const text = this.storage.read(rel);
    if (text === undefined) return undefined;
    try { check(text); return text; } catch (e) {
      const file = this.storage.file(rel);
      this.log?.warn({ file, err: (e as Error).message }, `the ACME account file ${file} is damaged; registering with ${this.opts.directoryUrl} again (the file is replaced)`);
      return undefined;
    }
  }
}

/** Whether an account's contact list is just the e-mail (or empty when there is none). */
function sameContact(contact: string[] | undefined, email: string | null): boolean {
  const want = email ? [`mailto:${email}`] : [];
  return (contact ?? []).length === want.length && want.every((c, i) => contact![i] === c);
}
