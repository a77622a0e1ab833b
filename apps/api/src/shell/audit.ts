// Audit record of every shell and attached/detached run: who (token), which app, when, what, and
// the exit code. Table shell_sessions: the issue-4 migration in db/migrations.ts.
import type { Db } from '../db/index.js';
import type { TokenRow } from '../db/index.js';


export interface AuditRow { id: number; kind: string; app: string; tokenId: string | null; tokenName: string | null; target: string | null; command: string[]; startedAt: string; endedAt: string | null; exitCode: number | null }

export class ShellAudit {
  constructor(private readonly db: Db) {}

  start(kind: 'shell' | 'run' | 'run-detached', app: string, token: TokenRow | undefined, target: string, command: string[]): number {
    const r = this.db.prepare('INSERT INTO shell_sessions (kind, app, token_id, token_name, target, command, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(kind, app, token?.id ?? null, token?.name ?? null, target, JSON.stringify(command), new Date().toISOString());
    return Number(r.lastInsertRowid);
  }

  end(id: number, exitCode: number | null): void {
    this.db.prepare('UPDATE shell_sessions SET ended_at = ?, exit_code = ? WHERE id = ?').run(new Date().toISOString(), exitCode, id);
  }

  list(app: string): AuditRow[] {
    const rows = this.db.prepare('SELECT * FROM shell_sessions WHERE app = ? ORDER BY id').all(app) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ id: r.id as number, kind: r.kind as string, app: r.app as string, tokenId: r.token_id as string | null, tokenName: r.token_name as string | null,
      target: r.target as string | null, command: JSON.parse(r.command as string) as string[], startedAt: r.started_at as string, endedAt: r.ended_at as string | null, exitCode: r.exit_code as number | null }));
  }
}
