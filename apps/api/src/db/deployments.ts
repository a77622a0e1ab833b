import crypto from 'node:crypto';
import type { Db } from './open.js';
import { now } from './open.js';
import { DreamError, TERMINAL_STATES, type DeploymentState } from '@dreamnet/core';

export interface Deployment {
  id: string;
  app: string;
  releaseId: string | null;
  version: number | null;
  state: DeploymentState;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  events?: { state: DeploymentState; reason: string | null; at: string }[];
  buildLog?: string;
}

/** What listeners (metrics, outbound notifications) hear after each recorded state change. */
export interface TransitionEvent { id: string; app: string; state: DeploymentState; reason: string; at: string; version: number | null }
export type TransitionListener = (e: TransitionEvent) => void;

interface Row { id: string; app: string; release_id: string | null; version: number | null; state: DeploymentState; reason: string | null; created_at: string; updated_at: string; build_log?: string }

const SELECT = 'SELECT d.rowid AS seq, d.id, d.app, d.release_id, r.version, d.state, d.reason, d.created_at, d.updated_at FROM deployments d LEFT JOIN releases r ON r.id = d.release_id';
const toDep = (r: Row): Deployment => ({ id: r.id, app: r.app, releaseId: r.release_id, version: r.version, state: r.state, reason: r.reason, createdAt: r.created_at, updatedAt: r.updated_at });

/** Deployments and their recorded state machine: every transition is an event with a time and reason. */
export class DeploymentsRepo {
  private readonly listeners: TransitionListener[] = [];

  constructor(private readonly db: Db) {}

  onTransition(fn: TransitionListener): void {
    this.listeners.push(fn);
  }

  private emit(id: string, state: DeploymentState, reason: string, at: string): void {
    if (this.listeners.length === 0) return;
    const r = this.db.prepare('SELECT d.app, r.version FROM deployments d LEFT JOIN releases r ON r.id = d.release_id WHERE d.id = ?').get(id) as { app: string; version: number | null } | undefined;
    if (!r) return;
    // A listener's failure must never fail the deployment it observes.
    for (const fn of this.listeners) { try { fn({ id, app: r.app, state, reason, at, version: r.version }); } catch { /* ignored */ } }
  }

  create(app: string, reason: string, releaseId: string | null = null): Deployment {
    const id = `dep_${crypto.randomBytes(8).toString('hex')}`;
    const t = now();
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO deployments (id, app, release_id, state, reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, app, releaseId, 'queued', reason, t, t);
      this.db.prepare('INSERT INTO deployment_events (deployment_id, state, reason, at) VALUES (?, ?, ?, ?)').run(id, 'queued', reason, t);
    })();
    this.emit(id, 'queued', reason, t);
    return this.get(app, id);
  }

  transition(id: string, state: DeploymentState, reason: string, releaseId?: string): void {
    const t = now();
    this.db.transaction(() => {
      this.db.prepare('UPDATE deployments SET state = ?, reason = ?, updated_at = ?, release_id = COALESCE(?, release_id) WHERE id = ?').run(state, reason, t, releaseId ?? null, id);
      this.db.prepare('INSERT INTO deployment_events (deployment_id, state, reason, at) VALUES (?, ?, ?, ?)').run(id, state, reason, t);
    })();
    this.emit(id, state, reason, t);
  }

  appendLog(id: string, text: string): void {
    this.db.prepare('UPDATE deployments SET build_log = build_log || ? WHERE id = ?').run(text, id);
  }

  get(app: string, id: string): Deployment {
    const r = this.db.prepare(`${SELECT} WHERE d.app = ? AND d.id = ?`).get(app, id) as Row | undefined;
    if (!r) throw new DreamError('DEPLOYMENT_NOT_FOUND', `App "${app}" has no deployment ${id}. List them with \`dream deployments ${app}\`.`);
    const d = toDep(r);
    d.events = this.db.prepare('SELECT state, reason, at FROM deployment_events WHERE deployment_id = ? ORDER BY id').all(id) as Deployment['events'];
    d.buildLog = (this.db.prepare('SELECT build_log FROM deployments WHERE id = ?').get(id) as { build_log: string }).build_log;
    return d;
  }

  list(app: string, limit = 50): Deployment[] {
    return (this.db.prepare(`${SELECT} WHERE d.app = ? ORDER BY d.created_at DESC, d.rowid DESC LIMIT ?`).all(app, limit) as Row[]).map(toDep);
  }

  /** Up to `limit` deployments of `app` (or of every app in `only`, or all when both are null) older than row `before`, newest first. */
  page(app: string | null, only: string[] | null, before: number | undefined, limit: number): (Deployment & { seq: number })[] {
    const where = ['d.rowid < ?'];
    const args: unknown[] = [before ?? Number.MAX_SAFE_INTEGER];
    if (app !== null) { where.push('d.app = ?'); args.push(app); }
    if (only) { where.push('d.app IN (SELECT value FROM json_each(?))'); args.push(JSON.stringify(only)); }
    const rows = this.db.prepare(`${SELECT} WHERE ${where.join(' AND ')} ORDER BY d.rowid DESC LIMIT ?`).all(...args, limit) as (Row & { seq: number })[];
    return rows.map((r) => ({ ...toDep(r), seq: r.seq }));
  }

  /** A deployment by id alone (for clients that kept only the id), or undefined. */
  findById(id: string): Deployment | undefined {
    const r = this.db.prepare('SELECT app FROM deployments WHERE id = ?').get(id) as { app: string } | undefined;
    return r && this.get(r.app, id);
  }

  /** Deployments not in a terminal state: after a crash these were interrupted. */
  unfinished(): Deployment[] {
    const marks = TERMINAL_STATES.map(() => '?').join(',');
    return (this.db.prepare(`${SELECT} WHERE d.state NOT IN (${marks})`).all(...TERMINAL_STATES) as Row[]).map(toDep);
  }

  /** Marks earlier healthy deployments of the app superseded by `id`. */
  supersede(app: string, id: string): void {
    const rows = this.db.prepare("SELECT id FROM deployments WHERE app = ? AND state = 'healthy' AND id != ?").all(app, id) as { id: string }[];
    for (const r of rows) this.transition(r.id, 'superseded', `superseded by ${id}`);
  }
}
