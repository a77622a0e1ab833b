// Pure decoding of Docker's json-file log driver: one JSON object per line,
// {"log":"text\n","stream":"stdout","time":"RFC 3339 nano"}. Docker splits a line longer than 16 KB
// into several entries; only the last one ends with "\n", so entries are joined per stream until it.
// Bytes may arrive cut anywhere (the file is read while Docker appends), so an unfinished last line
// waits for the next push.
import type { StreamName } from './frames.js';

export interface FileEntry {
  /** The time Docker stamped the line's first part, RFC 3339 with 9 fraction digits. */
  at: string;
  stream: StreamName;
  line: string;
}

interface Raw { log?: unknown; stream?: unknown; time?: unknown }

/**
 * Docker's API stamps lines with a fixed 9-digit fraction; the file trims trailing zeros
 * ("…:46.88365Z"). Same instant, but we give out the API's spelling so `at` does not change with the reader.
 */
export function fixedNano(time: string): string {
  // Fast path for what Docker writes ("YYYY-MM-DDTHH:MM:SS.fffZ"): this runs for every line.
  if (time.length <= 30 && time.charCodeAt(19) === 46 && time.endsWith('Z')) {
    const frac = time.slice(20, -1);
    return frac.length === 9 ? time : `${time.slice(0, 20)}${frac.padEnd(9, '0').slice(0, 9)}Z`;
  }
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}` : time;
}

export class JsonLogDecoder {
  private rest: Buffer = Buffer.alloc(0);
  private readonly partial: Record<StreamName, { at: string; text: string } | null> = { stdout: null, stderr: null };

  /** Complete lines in `chunk` (plus what was held back); keeps an unfinished JSON line for later. */
  push(chunk: Buffer): FileEntry[] {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    const out: FileEntry[] = [];
    // JSON escapes newlines inside strings, so every 0x0a byte ends an entry; decoding up to the
    // last one never cuts a character.
    const start = buf.lastIndexOf(10) + 1;
    if (start > 0) {
      const lines = buf.toString('utf8', 0, start - 1).split('\n');
      for (const l of lines) this.entry(l, out);
    }
    // Copy the tail: a subarray would pin the whole (large) read buffer.
    this.rest = start >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(start));
    return out;
  }

  /** Bytes of an unfinished JSON line held back (0 when the input ended on an entry boundary). */
  get pendingBytes(): number {
    return this.rest.length;
  }

  /** At the end of a log: the parts of a line that never got its "\n" (Docker's API gives them out too). */
  flush(): FileEntry[] {
    const out: FileEntry[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.partial[stream];
      if (p) out.push({ at: p.at, stream, line: p.text });
      this.partial[stream] = null;
    }
    return out;
  }

  private entry(json: string, out: FileEntry[]): void {
    if (json.trim() === '') return;
    let raw: Raw;
    try {
      raw = JSON.parse(json) as Raw;
    } catch {
      return; // Not an entry (a file cut by a crash): nothing a reader could use.
    }
    if (typeof raw.log !== 'string' || typeof raw.time !== 'string') return;
    const stream: StreamName = raw.stream === 'stderr' ? 'stderr' : 'stdout';
    const p = this.partial[stream];
    if (!raw.log.endsWith('\n')) {
      if (p) p.text += raw.log;
      else this.partial[stream] = { at: fixedNano(raw.time), text: raw.log };
      return;
    }
    let line = raw.log.slice(0, -1);
    let at: string;
    if (p) {
      line = p.text + line;
      at = p.at;
      this.partial[stream] = null;
    } else {
      at = fixedNano(raw.time);
    }
    out.push({ at, stream, line: line.endsWith('\r') ? line.slice(0, -1) : line });
  }
}
