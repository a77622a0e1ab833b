// Where certificate management keeps its state, under <data dir>/tls: ACME account keys, issued
// certificates (per issuer, so switching directories re-orders), the built-in CA, HTTP-01 tokens
// (shared so any proxy on this data dir can answer) and per-name lock files. Keys are mode 0600.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
}

const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

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

  /** Atomic write (temp + rename); `secret` files are 0600 from the first byte. */
  write(rel: string, data: string, secret = false): void {
    const f = this.file(rel);
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    const tmp = `${f}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, data, { mode: secret ? 0o600 : 0o644 });
    fs.renameSync(tmp, f);
  }

  remove(rel: string): void { fs.rmSync(this.file(rel), { force: true }); }

  private certDir(issuer: string, host: string): string {
    // '*' is fine in a file name but awkward in a shell; wildcards live as _wildcard_.<parent>.
    return path.join('certs', TlsStorage.issuerId(issuer), host.replace(/^\*\./, '_wildcard_.'));
  }

  loadCert(issuer: string, host: string): StoredCert | undefined {
    const d = this.certDir(issuer, host);
    const certPem = this.read(path.join(d, 'cert.pem'));
    const keyPem = this.read(path.join(d, 'key.pem'));
    const meta = this.read(path.join(d, 'meta.json'));
    if (!certPem || !keyPem || !meta) return undefined;
    return { certPem, keyPem, meta: JSON.parse(meta) as CertMeta };
  }

  saveCert(issuer: string, c: StoredCert): void {
    const d = this.certDir(issuer, c.meta.host);
    // Key first, meta last: a reader that finds meta.json finds a complete pair.
    this.write(path.join(d, 'key.pem'), c.keyPem, true);
    this.write(path.join(d, 'cert.pem'), c.certPem);
    this.write(path.join(d, 'meta.json'), JSON.stringify(c.meta, null, 2));
  }

  saveMeta(issuer: string, meta: CertMeta): void {
    this.write(path.join(this.certDir(issuer, meta.host), 'meta.json'), JSON.stringify(meta, null, 2));
  }

  // HTTP-01 tokens on disk too, so another proxy on the same data dir answers the CA as well.
  putToken(token: string, keyAuth: string): void { if (SAFE_TOKEN.test(token)) this.write(path.join('http01', token), keyAuth); }
  getToken(token: string): string | undefined { return SAFE_TOKEN.test(token) ? this.read(path.join('http01', token)) : undefined; }
  dropToken(token: string): void { if (SAFE_TOKEN.test(token)) this.remove(path.join('http01', token)); }

  /**
   * An exclusive lock on `name` across processes: O_EXCL create of a lock file. A lock older than
   * `staleMs` (its holder crashed mid-order) is broken. Returns the release function, or null.
   */
  tryLock(name: string, staleMs: number, now = Date.now()): (() => void) | null {
    const f = this.file('locks', `${name.replace(/[^a-z0-9.*-]/gi, '_')}.lock`);
    fs.mkdirSync(path.dirname(f), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(f, 'wx', 0o600);
        fs.writeSync(fd, JSON.stringify({ pid: process.pid, at: new Date(now).toISOString() }));
        fs.closeSync(fd);
        return () => fs.rmSync(f, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let age = 0;
        try { age = Date.now() - fs.statSync(f).mtimeMs; } catch { continue; }
        if (age < staleMs) return null;
        fs.rmSync(f, { force: true });
      }
    }
    return null;
  }
}
