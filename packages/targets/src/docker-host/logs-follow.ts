// How one replica's log is followed: from its json-file on disk (fast; the api runs on the Docker
// host) or through Docker's follow API (remote engines, an api in a container without the
// /var/lib/docker mount). Chosen once per engine, by whether the first followed log file is readable.
import fs from 'node:fs';
import type Dockerode from 'dockerode';
import type { LogLine, LogQuery } from '@dreamnet/core';
import { FrameDecoder, LineSplitter, splitTimestamp, timeKey } from './frames.js';
import { readLogFile } from './logs-file.js';

export interface LogSource {
  id: string;
  replica: number;
}

/** Batches of one replica's lines, in order; ends when the replica stops. */
export type Follower = (s: LogSource, q: LogQuery) => AsyncIterable<LogLine[]>;

/** RFC 3339 (nanoseconds) → Docker's `since` "seconds.nanoseconds" (inclusive), or null. */
export function dockerSince(at: string): string | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(at);
  if (!m) return null;
  const sec = Date.parse(`${m[1]}${m[3]}`) / 1000;
  return Number.isFinite(sec) ? `${sec}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}` : null;
}

export function logOpts(q: LogQuery) {
  const exact = q.sinceAt ? dockerSince(q.sinceAt) : null;
  return {
    stdout: true, stderr: true, timestamps: true,
    ...(q.tail !== undefined ? { tail: q.tail } : {}),
    ...(exact ? { since: exact } : q.since ? { since: Math.floor(q.since.getTime() / 1000) } : {}),
  };
}

/** The same lower bound as `logOpts` gives Docker, as a `timeKey` (UTC): exact, else whole seconds. */
export function sinceKey(q: LogQuery): string | undefined {
  const exact = q.sinceAt ? dockerSince(q.sinceAt) : null;
  const sec = exact ? Number(exact.split('.')[0]) : q.since ? Math.floor(q.since.getTime() / 1000) : null;
  if (sec === null) return undefined;
  const whole = new Date(sec * 1000).toISOString().slice(0, 19);
  return timeKey(`${whole}.${exact ? exact.split('.')[1] : '0'}Z`);
}

/** Docker's follow API: multiplexed frames; destroying the stream is what stops it. */
export function apiFollower(docker: Dockerode): Follower {
  return (s, q) => ({
    [Symbol.asyncIterator]() {
      let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;
      let it: AsyncIterator<Buffer> | null = null;
      const frames = new FrameDecoder();
      const lines = { stdout: new LineSplitter(), stderr: new LineSplitter() };
      return {
        async next(): Promise<IteratorResult<LogLine[]>> {
          if (!it) {
            stream = await docker.getContainer(s.id).logs({ ...logOpts(q), follow: true });
            it = (stream as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
          }
          for (;;) {
            const r = await it.next();
            if (r.done) return { done: true, value: undefined };
            const out: LogLine[] = [];
            for (const f of frames.push(r.value)) {
              for (const line of lines[f.stream].push(f.payload.toString('utf8'))) {
                out.push({ ...splitTimestamp(line), replica: s.replica, stream: f.stream, id: s.id });
              }
            }
            if (out.length > 0) return { done: false, value: out };
          }
        },
        async return(): Promise<IteratorResult<LogLine[]>> {
          stream?.destroy?.();
          return { done: true, value: undefined };
        },
      };
    },
  });
}

/** json-file logs read from disk; a container without a readable log file is followed through the API. */
export function fileFollower(docker: Dockerode): Follower {
  const viaApi = apiFollower(docker);
  return (s, q) => ({
    async *[Symbol.asyncIterator]() {
      const info = await docker.getContainer(s.id).inspect();
      if (!(await readableJsonLog(info))) {
        yield* viaApi(s, q);
        return;
      }
      const alive = () => docker.getContainer(s.id).inspect()
        .then((i) => i.State.Running || i.State.Restarting, () => false);
      const key = sinceKey(q);
      for await (const es of readLogFile(info.LogPath, { follow: true, alive, ...(key ? { sinceKey: key } : {}), ...(q.tail !== undefined ? { tail: q.tail } : {}) })) {
        yield es.map((e) => ({ at: e.at, replica: s.replica, stream: e.stream, line: e.line, id: s.id }));
      }
    },
  });
}

async function readableJsonLog(info: Dockerode.ContainerInspectInfo): Promise<boolean> {
  if (info.HostConfig.LogConfig?.Type !== 'json-file' || !info.LogPath) return false;
  return fs.promises.access(info.LogPath, fs.constants.R_OK).then(() => true, () => false);
}

const chosen = new WeakMap<Dockerode, Follower>();

/** The follower for this engine: decided on the first container that has a log file, then kept. */
export async function followerFor(docker: Dockerode, probe: LogSource): Promise<Follower> {
  const known = chosen.get(docker);
  if (known) return known;
  const info = await docker.getContainer(probe.id).inspect().catch(() => null);
  // No log file yet (never started, or removed): decide next time.
  if (!info || !info.LogPath) return apiFollower(docker);
  const f = (await readableJsonLog(info)) ? fileFollower(docker) : apiFollower(docker);
  chosen.set(docker, f);
  return f;
}
