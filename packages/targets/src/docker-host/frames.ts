// Pure decoding of Docker's multiplexed stream (non-tty logs and exec): 8-byte header
// [stream, 0, 0, 0, size(uint32 BE)] then `size` bytes. Chunks may split frames anywhere.
export type StreamName = 'stdout' | 'stderr';

export interface Frame {
  stream: StreamName;
  payload: Buffer;
}

export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const stream: StreamName = this.buf[0] === 2 ? 'stderr' : 'stdout';
      out.push({ stream, payload: this.buf.subarray(8, 8 + size) });
      this.buf = this.buf.subarray(8 + size);
    }
    return out;
  }
}

/** Splits a byte stream into complete lines; keeps the unfinished tail for the next push. */
export class LineSplitter {
  private rest = '';

  push(text: string): string[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop() ?? '';
    return parts.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  }

  flush(): string[] {
    const r = this.rest;
    this.rest = '';
    return r === '' ? [] : [r];
  }
}

/** Docker's `timestamps: true` prefixes each line with an RFC 3339 time and one space. */
export function splitTimestamp(line: string): { at: string; line: string } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/s.exec(line);
  return m ? { at: m[1]!, line: m[2]! } : { at: new Date().toISOString(), line };
}

/** Decodes a whole (non-follow) multiplexed buffer into lines per stream. */
export function decodeAll(buf: Buffer): Array<{ stream: StreamName; line: string }> {
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const out: Array<{ stream: StreamName; line: string }> = [];
  for (const f of new FrameDecoder().push(buf)) {
    for (const line of splitters[f.stream].push(f.payload.toString('utf8'))) out.push({ stream: f.stream, line });
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    for (const line of splitters[stream].flush()) out.push({ stream, line });
  }
  return out;
}

/** Sort key for RFC 3339 times whose fractions Docker trims (".1Z" vs ".123Z"): pad to nanoseconds. */
export function timeKey(at: string): string {
  const m = /^([^.Z+]+)(?:\.(\d+))?/.exec(at);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}` : at;
}
