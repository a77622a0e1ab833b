// One log client: history from disk in pages (never more than the queue limit in flight), then live
// lines as they are stored. A client that falls behind by more than the queue limit is told where
// to resume and closed, so a stalled reader costs bounded memory.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { LogStore } from './store.js';
import type { LogRequest } from './query.js';
import { matches, toMessage, type LogRecord } from './record.js';
import { heartbeat } from './heartbeat.js';

/** Bytes of frames handed to the kernel per write while a batch is corked. */
const CORK_BYTES = 64 * 1024;

export interface TailLimits {
  /** Bytes queued on one socket before it counts as lagging. */
  queueBytes: number;
  pingMs: number;
  idleMs: number;
}

/** Where to start reading: after this cursor. */
export function startCursor(store: LogStore, app: string, req: LogRequest): number {
  const log = store.log(app);
  let after = 0;
  if (req.afterCursor !== undefined) after = req.afterCursor;
  else if (req.sinceTime !== undefined) after = store.timeCursor(app, req.sinceTime);
  if (req.tail !== undefined) after = Math.max(after, store.tailCursor(app, req.tail, req.filter));
  return Math.min(after, log.last);
}

export function streamToSocket(ws: WebSocket, store: LogStore, app: string, req: LogRequest, limits: TailLimits): void {
  const reader = store.log(app).reader(startCursor(store, app, req));
  let sent = reader.position;
  let unsubscribe: (() => void) | null = null;
  let closed = false;
  const stopBeat = heartbeat(ws, limits.pingMs, limits.idleMs);

  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    unsubscribe?.();
    reader.close();
    stopBeat();
    ws.close(code, reason);
    // A peer that never reads never answers the close handshake either: give it one ping interval
    // to read what is queued (bounded by queueBytes), then drop it.
    setTimeout(() => ws.terminate(), Math.max(5000, limits.pingMs)).unref();
  };
  ws.on('close', () => { closed = true; unsubscribe?.(); reader.close(); stopBeat(); });

  // Each line stays its own message (one JSON object per message); corking the TCP socket around a
  // batch hands the kernel up to CORK_BYTES of frames in one writev instead of one write per line.
  // Lag is judged on `backlog` — what the peer had not taken when the current cork began — so the
  // bytes corked by this batch itself never count as lag.
  const raw = (ws as unknown as { _socket?: Socket })._socket;
  let backlog = 0;
  const corked = (fn: () => void) => {
    backlog = ws.bufferedAmount;
    raw?.cork();
    try { fn(); } finally { raw?.uncork(); }
  };

  const send = (r: LogRecord) => {
    ws.send(JSON.stringify(toMessage(r)));
    sent = r.cursor;
    if (!raw) { backlog = ws.bufferedAmount; return; }
    if (ws.bufferedAmount - backlog >= CORK_BYTES) {
      raw.uncork();
      backlog = ws.bufferedAmount;
      raw.cork();
    }
  };

  const live = (records: LogRecord[]) => corked(() => {
    for (const r of records) {
      if (closed) return;
      if (!matches(r, req.filter)) continue;
      if (backlog > limits.queueBytes) {
        ws.send(JSON.stringify({ type: 'lagged', resumeFrom: sent }));
        return finish(4008, 'lagged');
      }
      send(r);
    }
  });

  const pump = () => {
    if (closed) return;
    // History pages go out only while the socket drains; nothing piles up in memory.
    while (ws.bufferedAmount < limits.queueBytes / 2) {
      const page = reader.next(1000);
      if (page.length === 0) {
        // Caught up, in the same turn as the last read: no line can slip between disk and live.
        if (!req.follow) return finish(1000, 'end of history');
        sent = Math.max(sent, reader.position);
        reader.close();
        unsubscribe = store.subscribe(app, live);
        return;
      }
      corked(() => { for (const r of page) if (matches(r, req.filter)) send(r); });
      sent = Math.max(sent, reader.position);
    }
    setTimeout(pump, 5);
  };
  pump();
}
