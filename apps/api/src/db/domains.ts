// Custom domains (one app each; rows go with the app) and the certificate status proxies report.
import { DreamError } from '@dreamnet/core';
import type { Db } from './open.js';
import { now } from './open.js';

export interface CertStatusRow { host: string; state: string; issuer: string | null; not_after: string | null; error: string | null; next_attempt_at: string | null; proxy: string; updated_at: string }
export interface ReportedCert { host: string; state: string; issuer?: string; notAfter?: string; error?: string; nextAttemptAt?: string }

export class DomainsRepo {
  constructor(private readonly db: Db) {}

  hostsOf(app: string): string[] {
    return (this.db.prepare('SELECT host FROM domains WHERE app = ? ORDER BY host').all(app) as { host: string }[]).map((r) => r.host);
  }

  owner(host: string): string | undefined {
    return (this.db.prepare('SELECT app FROM domains WHERE host = ?').get(host) as { app: string } | undefined)?.app;
  }

  add(app: string, host: string): void {
    const other = this.owner(host);
    if (other && other !== app) throw new DreamError('DOMAIN_TAKEN', `${host} already belongs to another app. Move it with \`dream domains add ${app} ${host} --move\`, or remove it there first with \`dream domains remove\`.`);
    this.db.prepare('INSERT OR IGNORE INTO domains (host, app, created_at) VALUES (?, ?, ?)').run(host, app, now());
  }

  /** Gives `host` to `app` whoever has it now (its certificate status stays: it is the name's); returns the previous owner. */
  move(app: string, host: string): string | undefined {
    const from = this.owner(host);
    if (!from) this.add(app, host);
    else if (from !== app) this.db.prepare('UPDATE domains SET app = ? WHERE host = ?').run(app, host);
    return from;
  }

  remove(app: string, host: string): void {
    const r = this.db.prepare('DELETE FROM domains WHERE app = ? AND host = ?').run(app, host);
    if (!r.changes) throw new DreamError('DOMAIN_NOT_FOUND', `${app} has no domain ${host}. List its domains with \`dream domains ${app}\`.`);
    this.db.prepare('DELETE FROM cert_status WHERE host = ?').run(host);
  }

  /** A proxy's full report: replaces what that proxy said before. */
  report(proxy: string, certs: ReportedCert[]): void {
    const t = now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM cert_status WHERE proxy = ?').run(proxy);
      const ins = this.db.prepare('INSERT OR REPLACE INTO cert_status (host, state, issuer, not_after, error, next_attempt_at, proxy, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const c of certs) ins.run(c.host, c.state, c.issuer ?? null, c.notAfter ?? null, c.error ?? null, c.nextAttemptAt ?? null, proxy, t);
    })();
  }

  certStatus(host: string): CertStatusRow | undefined {
    return this.db.prepare('SELECT * FROM cert_status WHERE host = ?').get(host) as CertStatusRow | undefined;
  }
}
