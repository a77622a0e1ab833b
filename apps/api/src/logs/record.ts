// What the log store keeps and streams: one JSON object per line, numbered by a per-app cursor that
// only grows (across restarts too), so a client resumes with "everything after cursor N".
export type LogSource = 'build' | 'runtime' | 'run';

export interface LogRecord {
  cursor: number;
  /** RFC 3339; the container's own clock for runtime lines (nanoseconds from Docker). */
  timestamp: string;
  source: LogSource;
  /** Replica number (runtime), 0 for build output, the run id for one-off runs. */
  replica: number | string;
  stream: 'stdout' | 'stderr';
  line: string;
  /** Deployment id of build output. */
  deployment?: string;
  /** The container that printed it (dedupe on resume); not sent to clients. */
  container?: string;
}

export type NewRecord = Omit<LogRecord, 'cursor'>;

/** What a client receives: the record without internal fields. */
export function toMessage(r: LogRecord): Omit<LogRecord, 'container'> {
  const { container: _c, ...msg } = r;
  return msg;
}

/** Sort key for RFC 3339 times whose fractions differ in length (".1Z" vs ".123456789Z"). */
export function timeKey(at: string): string {
  const m = /^([^.Z+]+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(at);
  if (!m) return at;
  // Offsets other than Z are rare (Docker and we write Z); normalise them through Date.
  if (m[3] && m[3] !== 'Z') return `${new Date(at).toISOString().slice(0, 19)}.${(m[2] ?? '').padEnd(9, '0')}`;
  return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}`;
}

export interface RecordFilter {
  source: 'build' | 'runtime' | 'run' | 'all';
  replica?: string;
  deployment?: string;
}

export function matches(r: LogRecord, f: RecordFilter): boolean {
  if (f.source !== 'all' && r.source !== f.source) return false;
  if (f.replica !== undefined && String(r.replica) !== f.replica) return false;
  if (f.deployment !== undefined && r.deployment !== f.deployment) return false;
  return true;
}
