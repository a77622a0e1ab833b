// Log lines of an app's replicas, merged: a batch sorted by time, or (follow) as they come.
import type Dockerode from 'dockerode';
import type { LogLine, LogQuery } from '@dreamnet/core';
import { FrameDecoder, LineSplitter, decodeAll, splitTimestamp, timeKey } from './frames.js';

export interface LogSource {
  id: string;
  replica: number;
}

/** RFC 3339 (nanoseconds) → Docker's `since` "seconds.nanoseconds" (inclusive), or null. */
export function dockerSince(at: string): string | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(at);
  if (!m) return null;
  const sec = Date.parse(`${m[1]}${m[3]}`) / 1000;
  return Number.isFinite(sec) ? `${sec}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}` : null;
}

function logOpts(q: LogQuery) {
  const exact = q.sinceAt ? dockerSince(q.sinceAt) : null;
  return {
    stdout: true, stderr: true, timestamps: true,
    ...(q.tail !== undefined ? { tail: q.tail } : {}),
    ...(exact ? { since: exact } : q.since ? { since: Math.floor(q.since.getTime() / 1000) } : {}),
  };
}

async function batch(docker: Dockerode, sources: LogSource[], q: LogQuery): Promise<LogLine[]> {
  const all: LogLine[] = [];
  for (const s of sources) {
    const buf = await docker.getContainer(s.id).logs({ ...logOpts(q), follow: false });
    for (const { stream, line } of decodeAll(Buffer.isBuffer(buf) ? buf : Buffer.from(buf))) {
      all.push({ ...splitTimestamp(line), replica: s.replica, stream, id: s.id });
    }
  }
  all.sort((a, b) => (timeKey(a.at) < timeKey(b.at) ? -1 : timeKey(a.at) > timeKey(b.at) ? 1 : 0));
  return q.tail !== undefined ? all.slice(Math.max(0, all.length - q.tail)) : all;
}

export async function* readLogs(docker: Dockerode, sources: LogSource[], q: LogQuery): AsyncGenerator<LogLine> {
  if (!q.follow) {
    yield* await batch(docker, sources, q);
    return;
  }
  const queue: LogLine[] = [];
  let wake: (() => void) | null = null;
  let open = sources.length;
  let failure: unknown = null;
  const streams: NodeJS.ReadableStream[] = [];
  const poke = () => { const w = wake; wake = null; w?.(); };
  for (const s of sources) {
    const stream = await docker.getContainer(s.id).logs({ ...logOpts(q), follow: true });
    streams.push(stream);
    const frames = new FrameDecoder();
    const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    stream.on('data', (chunk: Buffer) => {
      for (const f of frames.push(chunk)) {
        for (const line of lines[f.stream].push(f.payload.toString('utf8'))) {
          queue.push({ ...splitTimestamp(line), replica: s.replica, stream: f.stream, id: s.id });
        }
      }
      poke();
    });
    stream.on('end', () => { open--; poke(); });
    stream.on('error', (e) => { failure = e; poke(); });
  }
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (failure) throw failure;
      if (open <= 0) return;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    // The reader went away (WebSocket closed): stop Docker streaming to us.
    for (const s of streams) (s as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}
