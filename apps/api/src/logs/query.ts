// Pure parsing of the log query (?follow&tail&since&source&replica&format) into what the store needs.
import { DreamError } from '@dreamnet/core';
import type { RecordFilter } from './record.js';

export interface LogRequest {
  follow: boolean;
  tail?: number;
  /** Resume after this cursor … */
  afterCursor?: number;
  /** … or start at this time (RFC 3339). */
  sinceTime?: string;
  filter: RecordFilter;
  format: 'ws' | 'ndjson';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m", "1h30m", "45s" → milliseconds, or null. */
export function parseDuration(text: string): number | null {
  const re = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let seen = 0;
  while ((m = re.exec(text)) !== null) { total += Number(m[1]) * UNITS[m[2]!]!; seen = re.lastIndex; }
  return seen === text.length && seen > 0 ? total : null;
}

function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

export function parseLogQuery(q: Record<string, string | undefined>, now = Date.now()): LogRequest {
  const bad = (msg: string) => new DreamError('VALIDATION_FAILED', msg);
  const out: LogRequest = { follow: flag(q.follow), filter: { source: 'all' }, format: q.format === 'ndjson' ? 'ndjson' : 'ws' };
  if (q.format !== undefined && q.format !== 'ndjson') throw bad('format must be "ndjson" (or use a WebSocket).');
  if (q.tail !== undefined) {
    const n = Number(q.tail);
    if (!Number.isInteger(n) || n < 0 || n > 100_000) throw bad('tail must be a whole number from 0 to 100000.');
    out.tail = n;
  }
  if (q.since !== undefined && q.since !== '') {
    if (/^\d+$/.test(q.since)) out.afterCursor = Number(q.since);
    else {
      const ms = parseDuration(q.since);
      if (ms !== null) out.sinceTime = new Date(now - ms).toISOString();
      else if (!Number.isNaN(Date.parse(q.since))) out.sinceTime = new Date(q.since).toISOString();
      else throw bad('since is a cursor (a number), a duration like 10m or 2h, or an RFC 3339 time.');
    }
  }
  const source = q.source ?? 'all';
  if (!['build', 'runtime', 'run', 'all'].includes(source)) throw bad('source must be build, runtime, run or all.');
  out.filter.source = source as RecordFilter['source'];
  if (q.replica !== undefined && q.replica !== '') {
    if (!/^(\d{1,4}|[a-f0-9]{12,64})$/.test(q.replica)) throw bad('replica is a replica number or a run id.');
    out.filter.replica = q.replica;
  }
  if (q.deployment !== undefined && q.deployment !== '') {
    if (!/^dep_[a-f0-9]{16}$/.test(q.deployment)) throw bad('deployment is a deployment id (dep_…).');
    out.filter.deployment = q.deployment;
  }
  return out;
}
