// Log lines of an app's replicas, merged: a batch sorted by time, or (follow) as they come. Following
// reads each container's json-file log from disk when this process can (it runs on the Docker host),
// else Docker's follow API; which one is decided once per engine (logs-follow.ts).
import type Dockerode from 'dockerode';
import { DreamError, LABEL, type LogLine, type LogQuery } from '@dreamnet/core';
import { listReplicas } from './client.js';
import { decodeAll, splitTimestamp, timeKey } from './frames.js';
import { followerFor, logOpts, type LogSource } from './logs-follow.js';

export { dockerSince, type LogSource } from './logs-follow.js';

/** A replica (or one-off run) of `app` by container id; never another app's container. */
export async function sourceById(docker: Dockerode, network: string, app: string, id: string): Promise<LogSource> {
  const found = (await listReplicas(docker, network, app)).find((c) => c.id === id);
  if (found) return { id, replica: found.replica };
  const info = await docker.getContainer(id).inspect().catch(() => null);
  const labels = info?.Config.Labels ?? {};
  if (!info || labels[LABEL.app] !== app || labels[LABEL.kind] !== 'run') throw new DreamError('NOT_FOUND', `${app} has no replica or run ${id}.`);
  return { id: info.Id, replica: 0 };
}

/** Lines queued from the sources before their readers wait for the consumer. */
const HIGH_WATER = 20_000;

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
  if (sources.length === 0) return;
  const follow = await followerFor(docker, sources[0]!);
  const queue: LogLine[][] = [];
  let queued = 0;
  let wake: (() => void) | null = null;
  const paused: Array<() => void> = [];
  const resume = () => { for (const r of paused.splice(0)) r(); };
  let open = sources.length;
  let failure: unknown = null;
  let closed = false;
  const poke = () => { const w = wake; wake = null; w?.(); };
  const its = sources.map((s) => follow(s, q)[Symbol.asyncIterator]());
  // Each source is read on its own; all of them pause while the consumer is HIGH_WATER lines behind.
  for (const it of its) {
    void (async () => {
      try {
        for (;;) {
          const r = await it.next();
          if (r.done || closed) break;
          queue.push(r.value);
          queued += r.value.length;
          poke();
          while (queued > HIGH_WATER && !closed) await new Promise<void>((resolve) => { paused.push(resolve); });
        }
      } catch (e) {
        failure ??= e;
      } finally {
        open--;
        poke();
      }
    })();
  }
  try {
    for (;;) {
      while (queue.length > 0) {
        const b = queue.shift()!;
        queued -= b.length;
        if (queued <= HIGH_WATER) resume();
        yield* b;
      }
      if (failure) throw failure;
      if (open <= 0) return;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    // The reader went away (WebSocket closed): stop reading files / Docker streaming to us.
    closed = true;
    resume();
    for (const it of its) void it.return?.(undefined).catch(() => {});
  }
}
