// Pure text formatting for humans: aligned tables, key/value blocks, relative times.

/** Columns padded to the widest cell, two spaces apart, no trailing spaces. */
export function table(headers: string[], rows: string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  return all
    .map((r) => headers.map((_, i) => pad(clean(r[i] ?? ''), widths[i]!)).join('  ').trimEnd())
    .join('\n');
}

/** "Name:     hello" lines with the values aligned. */
export function keyValues(pairs: [string, string][]): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${pad(`${k}:`, w)}  ${clean(v)}`.trimEnd()).join('\n');
}

/** "just now", "5m ago", "3h ago", "2d ago", else the date. */
export function ago(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now.getTime() - t) / 1000);
  if (s < 0) return new Date(t).toISOString().replace('T', ' ').slice(0, 16);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))}m ago`;
  if (s < 86_400) return `${Math.round(s / 3600)}h ago`;
  if (s < 30 * 86_400) return `${Math.round(s / 86_400)}d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** "2025-01-10 12:00:05" (UTC) from an ISO time: exact, but shorter than ISO. */
export function stamp(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace('T', ' ').slice(0, 19);
}

/** Multi-line text from the api (build logs) without terminal control sequences, which could
 * otherwise rewrite the user's screen; newlines and tabs stay. */
export function sanitize(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -\/]*[@-~]/g, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
}

/** Keeps one table cell on one line: API text (reasons, descriptions) may hold newlines or tabs. */
function clean(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
}

function width(s: string): number {
  return [...clean(s)].length;
}

function pad(s: string, w: number): string {
  return s + ' '.repeat(Math.max(0, w - [...s].length));
}
