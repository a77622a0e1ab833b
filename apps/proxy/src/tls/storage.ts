// Where certificate management keeps its state, under <data dir>/tls: ACME account keys, issued
// certificates (per issuer, so switching directories re-orders), the built-in CA, HTTP-01 tokens
// (shared so any proxy on this data dir can answer) and per-name lock files. Keys are mode 0600.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tryLockFile } from './lock.js';

export interface StoredCert {
  /** Leaf first, then the chain, PEM. */
  certPem: string;
  keyPem: string;
  meta: CertMeta;
}

export interface CertMeta {
  host: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** From ACME Renewal Information when the CA offered it: the start of its suggested window. */
  ariRenewAt?: string;
  /** The serial of the certificate that ariRenewAt is about. */
  ariSerial?: string;
}

/** Certificate chain, key and meta of one name, in one file (mode 0600). */
const PAIR = 'pair.json';
/** Rewritten whenever a certificate of that issuer is stored (certsStamp). */
const CHANGED = '.changed';
const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
/** write()'s temp file beside its target: `<name>.<pid>.<8 hex>.tmp`. */
export const TEMP = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/** A pair.json's content; throws when it is not one. */
function parsePair(text: string): StoredCert {
  const c = JSON.parse(text) as StoredCert;
  if (typeof c?.certPem === 'string' && typeof c.keyPem === 'string' && c.meta) return c;
  throw new Error('no certPem, keyPem and meta in it');
}

// Every write is a rename of a new file: a new inode, so the stamp changes even within one mtime tick.
const stampOf = (st: fs.Stats) => `${st.ino}:${st.mtimeMs}:${st.size}`;

export class TlsStorage {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'tls');
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A short stable id for an issuer (directory URL or 'builtin'), safe as a folder name. */
  static issuerId(issuer: string): string {
    if (issuer === 'builtin') return 'builtin';
    const u = new URL(issuer);
    return `${u.hostname.replace(/[^a-z0-9.-]/gi, '_')}-${crypto.createHash('sha256').update(issuer).digest('hex').slice(0, 10)}`;
  }

  file(...parts: string[]): string { return path.join(this.dir, ...parts); }

  read(rel: string): string | undefined {
    try { return fs.readFileSync(this.file(rel), 'utf8'); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; throw e; }
  }

  /**
   * Atomic write: temp file (0600 from the first byte for `secret`), fsync, rename. A crash leaves
   * the old file or the new one, never a truncated one (the fsync makes that hold for power loss).
   */
  write(rel: string, data: string, secret = false): void {
    const f = this.file(rel);
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    const tmp = `${f}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(tmp, 'wx', secret ? 0o600 : 0o644);
    try { fs.writeFileSync(fd, data); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, f);
  }

  remove(rel: string): void { fs.rmSync(this.file(rel), { force: true }); }

  /** The file names in a folder, [] when it does not exist; write()'s temp files left out. */
  list(relDir: string): string[] {
    try { return fs.readdirSync(this.file(relDir)).filter((f) => !TEMP.test(f)); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []; throw e; }
  }

  private certDir(issuer: string, host: string, id = TlsStorage.issuerId(issuer)): string {
    // '*' is fine in a file name but awkward in a shell; wildcards live as _wildcard_.<parent>.
    return path.join('certs', id, host.replace(/^\*\./, '_wildcard_.'));
  }

  /** The pairs other issuers stored for `host` (a directory used before, the built-in CA); damaged ones left out. */
  loadOtherCerts(issuer: string, host: string): StoredCert[] {
    const own = TlsStorage.issuerId(issuer);
    return this.list('certs').filter((id) => id !== own)
      .map((id) => {
        try { const text = this.read(path.join(this.certDir('', host, id), PAIR)); return text === undefined ? undefined : parsePair(text); } catch { return undefined; }
      })
      .filter((c): c is StoredCert => c !== undefined);
  }

  /**
   * The stored pair, or undefined when there is none or it cannot be read (a damaged file is
   * re-ordered, not a reason to fail start-up; `damaged` hears which file and why). The caller
   * checks the pair itself.
   */
  loadCert(issuer: string, host: string, damaged?: (why: string) => void): StoredCert | undefined {
    const d = this.certDir(issuer, host);
    let at = path.join(d, PAIR);
    try {
      const one = this.read(at);
      if (one !== undefined) {
        return parsePair(one);
      }
      // Written by older versions as three files (a crash between them could split a pair).
      const certPem = this.read(path.join(d, 'cert.pem'));
      const keyPem = this.read(path.join(d, 'key.pem'));
      at = path.join(d, 'meta.json');
      const meta = this.read(at);
      return certPem && keyPem && meta ? { certPem, keyPem, meta: JSON.parse(meta) as CertMeta } : undefined;
    } catch (e) {
      damaged?.(`${this.file(at)}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /**
   * Certificate, key and meta in one file, so that one rename commits all three: with separate
   * files, a crash between them left a new key beside the old certificate (re-ordered on restart).
   */
  saveCert(issuer: string, c: StoredCert): void {
    this.savePair(issuer, c);
    // Tells the other processes on this data dir to look (certsStamp): a sibling's renewal is served
    // by every worker at once, not only when each reaches its own renewal time.
    this.write(path.join('certs', TlsStorage.issuerId(issuer), CHANGED), `${new Date().toISOString()} ${process.pid} ${c.meta.host}\n`);
  }

  private savePair(issuer: string, c: StoredCert): void {
    const d = this.certDir(issuer, c.meta.host);
    this.write(path.join(d, PAIR), JSON.stringify(c, null, 2), true);
    for (const old of ['cert.pem', 'key.pem', 'meta.json']) this.remove(path.join(d, old));
  }

  /**
   * Renewal information for the stored certificate. Only when `meta` is about the certificate on
   * disk: a process still serving the previous one (a sibling renewed it) must not put that one's
   * dates and advice beside the new certificate.
   */
  saveMeta(issuer: string, meta: CertMeta): void {
    const c = this.loadCert(issuer, meta.host);
    if (!c) return;
    let serial: string | undefined;
    try { serial = new crypto.X509Certificate(c.certPem).serialNumber; } catch { return; } // damaged: re-ordered at the next start
    if (meta.ariSerial && serial !== meta.ariSerial) return;
    this.savePair(issuer, { ...c, meta });
  }

  /** Changes whenever any process on the data dir stores a new certificate from `issuer`. */
  certsStamp(issuer: string): string { return this.stamp(path.join('certs', TlsStorage.issuerId(issuer), CHANGED)); }

  /** Changes whenever the stored pair of `host` is rewritten ('' while there is none). */
  certStamp(issuer: string, host: string): string { return this.stamp(path.join(this.certDir(issuer, host), PAIR)); }

  private stamp(rel: string): string {
    try { return stampOf(fs.statSync(this.file(rel))); } catch { return ''; }
  }

  /** certStamp() and loadCert() (pair.json, what every process stores) without blocking: a handshake waits on them. */
  async certStampAsync(issuer: string, host: string): Promise<string> {
    try { return stampOf(await fs.promises.stat(this.file(this.certDir(issuer, host), PAIR))); } catch { return ''; }
  }

  async loadCertAsync(issuer: string, host: string): Promise<StoredCert | undefined> {
    try {
      return parsePair(await fs.promises.readFile(this.file(this.certDir(issuer, host), PAIR), 'utf8'));
    } catch { return undefined; } // none yet, or damaged: the sync path logs and re-orders
  }


  // HTTP-01 tokens on disk too, so another proxy on the same data dir answers the CA as well.
  putToken(token: string, keyAuth: string): void { if (SAFE_TOKEN.test(token)) this.write(path.join('http01', token), keyAuth); }
  getToken(token: string): string | undefined { return SAFE_TOKEN.test(token) ? this.read(path.join('http01', token)) : undefined; }
  dropToken(token: string): void { if (SAFE_TOKEN.test(token)) this.remove(path.join('http01', token)); }

  /** The lock file of `name` (present while some process orders it). */
  lockFile(name: string): string { return this.file('locks', `${name.replace(/[^a-z0-9.*-]/gi, '_')}.lock`); }

  /** An exclusive lock on `name` across processes (see lock.ts). Returns the release function, or null. */
  tryLock(name: string, staleMs: number): (() => void) | null {
    const f = this.lockFile(name);
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    return tryLockFile(f, staleMs);
  }
}
