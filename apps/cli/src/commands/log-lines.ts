// Pure parts of `dream logs`: the flags → the api's query, and one log message → one printed line
// (coloured per replica and stream on a terminal, plain otherwise).
import type { Flags } from '../args.js';
import { CliError } from '../errors.js';

export interface LogMessage {
  cursor: number;
  timestamp: string;
  source: 'build' | 'runtime' | 'run';
  replica: number | string;
  stream: 'stdout' | 'stderr';
  line: string;
  deployment?: string;
}

export interface LogOptions {
  follow: boolean;
  tail?: number;
  since?: string;
  source: 'build' | 'runtime' | 'all';
  replica?: string;
}

/** Lines shown by default when neither --tail nor --since says otherwise. */
export const DEFAULT_TAIL = 100;

export function logOptions(flags: Flags): LogOptions {
  const bad = (msg: string, hint: string) => new CliError(msg, hint, 2);
  const o: LogOptions = { follow: flags.follow === true, source: flags.build ? 'build' : 'all' };
  if (flags.tail !== undefined) {
    if (!/^\d{1,6}$/.test(flags.tail) || Number(flags.tail) > 100_000) throw bad(`--tail must be a whole number up to 100000 (got "${flags.tail}").`, 'E.g. `dream logs APP --tail 50`.');
    o.tail = Number(flags.tail);
  }
  if (flags.since !== undefined) {
    const ok = /^\d+$/.test(flags.since) || /^(\d+(ms|s|m|h|d))+$/.test(flags.since) || !Number.isNaN(Date.parse(flags.since));
    if (!ok) throw bad(`--since must be a duration like 10m or 2h, a cursor, or a time (got "${flags.since}").`, 'E.g. `dream logs APP --since 10m`.');
    o.since = flags.since;
  }
  if (o.tail === undefined && o.since === undefined) o.tail = DEFAULT_TAIL;
  if (flags.replica !== undefined) {
    if (!/^(\d{1,4}|[a-f0-9]{12,64})$/.test(flags.replica)) throw bad(`--replica is a replica number or a run id (got "${flags.replica}").`, 'E.g. `dream logs APP --replica 2`.');
    o.replica = flags.replica;
  }
  return o;
}

/** The api query; after a cursor, only `since=<cursor>` decides where to start (no tail). */
export function logQuery(o: LogOptions, afterCursor: number | undefined): URLSearchParams {
  const q = new URLSearchParams();
  if (o.follow) q.set('follow', '1');
  if (afterCursor !== undefined) q.set('since', String(afterCursor));
  else {
    if (o.tail !== undefined) q.set('tail', String(o.tail));
    if (o.since !== undefined) q.set('since', o.since);
  }
  if (o.source !== 'all') q.set('source', o.source);
  if (o.replica !== undefined) q.set('replica', o.replica);
  return q;
}

/** A parsed text frame: a log line, the lag notice, or null for anything else. */
export function parseFrame(text: string): { kind: 'line'; msg: LogMessage } | { kind: 'lagged'; resumeFrom: number } | null {
  let m: Record<string, unknown>;
  try { m = JSON.parse(text) as Record<string, unknown>; } catch { return null; }
  if (m.type === 'lagged' && typeof m.resumeFrom === 'number') return { kind: 'lagged', resumeFrom: m.resumeFrom };
  if (typeof m.cursor === 'number' && typeof m.line === 'string') return { kind: 'line', msg: m as unknown as LogMessage };
  return null;
}

const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94]; // cyan, magenta, yellow, green, blue, bright …
const paint = (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** "web[1]", "build", "run[ab12cd34ef56]" */
export function label(app: string, m: LogMessage): string {
  if (m.source === 'build') return 'build';
  if (m.source === 'run') return `run[${m.replica}]`;
  return `${app}[${m.replica}]`;
}

function colourOf(m: LogMessage): number {
  if (m.source === 'build') return 90;
  const n = typeof m.replica === 'number' ? m.replica : parseInt(String(m.replica).slice(0, 6), 16);
  return PALETTE[Math.abs(n) % PALETTE.length]!;
}

/** Terminal control characters other than tab could rewrite the user's screen: shown as "?". */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f\x9b]/g, '?');
}

export function formatLine(app: string, m: LogMessage, colour: boolean): string {
  const err = m.stream === 'stderr';
  if (!colour) return `${m.timestamp} ${label(app, m)}${err ? ' stderr' : ''} ${m.line}`;
  const time = paint(2, m.timestamp.slice(11, 23));
  const who = paint(colourOf(m), label(app, m));
  return `${time} ${who} ${err ? paint(31, printable(m.line)) : printable(m.line)}`;
}
