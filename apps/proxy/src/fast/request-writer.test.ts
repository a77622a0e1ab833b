// The request side's backpressure (request-writer.ts) with real sockets: an upstream that stops
// reading pauses the client, once per stall however many body chunks still arrive, and its
// 'drain' resumes the client.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestWriter } from './request-writer.js';

const closers: Array<() => void> = [];
afterEach(() => { for (const c of closers.splice(0)) c(); });

/** A connected socket whose peer reads only once `read()` is called. */
async function socketTo(): Promise<{ socket: net.Socket; read: () => void }> {
  let peer!: net.Socket;
  const server = net.createServer((s) => { peer = s; s.pause(); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  while (!peer) await new Promise((r) => setTimeout(r, 5));
  closers.push(() => { socket.destroy(); peer.destroy(); server.close(); });
  return { socket, read: () => peer.resume() };
}

describe('RequestWriter', () => {
  it('pauses the client once per stall of the upstream and resumes it on drain', async () => {
    const client = await socketTo();
    const up = await socketTo();
    const chunk = Buffer.alloc(1024 * 1024);
    const w = new RequestWriter('POST / HTTP/1.1\r\ncontent-length: 67108864\r\n\r\n', 64 * chunk.length, client.socket, { over: false });
    w.start(up.socket);
    for (let i = 0; i < 12; i++) expect(w.body(chunk)).toBeNull(); // far past the upstream's high-water mark
    expect(client.socket.isPaused()).toBe(true);
    expect(up.socket.listenerCount('drain')).toBe(1);
    up.read();
    await new Promise((r) => up.socket.once('drain', r));
    await new Promise((r) => setImmediate(r));
    expect(client.socket.isPaused()).toBe(false);
    expect(up.socket.listenerCount('drain')).toBe(0);
    expect(w.left).toBe(52 * chunk.length);
  });
});
