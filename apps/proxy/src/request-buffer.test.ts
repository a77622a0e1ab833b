import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferRequest, UploadGone, type BufferedBody, type RequestBufferSettings } from './request-buffer.js';
import { BodyTooLarge, UploadStalled } from './upload-body.js';
import { openFilesUnder } from '../../../test/open-files.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'request-buffer-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const settings = (o: Partial<RequestBufferSettings> = {}): RequestBufferSettings => ({ memoryBytes: 1024, dir: path.join(dir, 'bodies'), disk: { free: 1 << 20 }, ...o });

/** `p` failed with UploadGone and, once a file open under way has finished, nothing is held: no descriptor, no disk budget. */
async function expectLetGo(p: Promise<BufferedBody>, s: RequestBufferSettings): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(UploadGone);
  await new Promise((r) => setTimeout(r, 200));
  expect(openFilesUnder(s.dir)).toEqual([]);
  expect(s.disk.free).toBe(1 << 20);
}

async function collect(b: BufferedBody, rest: PassThrough | null = null): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of b.replay(rest)) out.push(c);
  return Buffer.concat(out);
}

describe('bufferRequest', () => {
  it('keeps a body in memory in a few blocks, however small its chunks, and replays it on each attempt', async () => {
    const req = new PassThrough();
    const s = settings({ memoryBytes: 64 * 1024 });
    const p = bufferRequest(req, s, 5000, new EventEmitter());
    const body = crypto.randomBytes(40_000);
    for (let i = 0; i < body.length; i++) req.write(body.subarray(i, i + 1));
    req.end();
    const b = await p;
    expect(b.complete).toBe(true);
    expect(b.length).toBe(40_000);
    let pieces = 0;
    for await (const _ of b.replay(null)) pieces++;
    expect(pieces).toBeLessThanOrEqual(3);
    expect(await collect(b)).toEqual(body);
    expect(await collect(b)).toEqual(body);
    b.release();
  });

  it('sizes memory by the declared length: a 300-byte form takes 300 bytes, not a 16 KiB block', async () => {
    const req = new PassThrough();
    const p = bufferRequest(req, settings({ memoryBytes: 64 * 1024 }), 5000, new EventEmitter(), { expected: 300 });
    const body = crypto.randomBytes(300);
    req.write(body.subarray(0, 100));
    req.end(body.subarray(100));
    const b = await p;
    expect(b.memoryHeld).toBe(300);
    expect(await collect(b)).toEqual(body);
    // Without a declared length, blocks of 16 KiB as before.
    const unsized = new PassThrough();
    const q = bufferRequest(unsized, settings({ memoryBytes: 64 * 1024 }), 5000, new EventEmitter());
    unsized.end(body);
    const unsizedBody = await q;
    expect(unsizedBody.memoryHeld).toBe(16 * 1024);
    unsizedBody.release();
  });

  it('fails with BodyTooLarge past the limit, having counted every chunk', async () => {
    const req = new PassThrough();
    const p = bufferRequest(req, settings(), 5000, new EventEmitter(), { limit: 5000 });
    req.write(Buffer.alloc(3000));
    req.write(Buffer.alloc(2000));
    req.write(Buffer.alloc(1));
    await expect(p).rejects.toBeInstanceOf(BodyTooLarge);
    // At the limit exactly, the body is whole.
    const at = new PassThrough();
    const q = bufferRequest(at, settings(), 5000, new EventEmitter(), { limit: 5000 });
    at.end(Buffer.alloc(5000));
    const whole = await q;
    expect(whole.received).toBe(5000);
    whole.release(); // its file: else closed only when collected (node warns)
  });

  it('opens the file at once for a declared length past memory, and writes the whole body there', async () => {
    const req = new PassThrough();
    const s = settings({ dir: path.join(dir, 'ahead') });
    const p = bufferRequest(req, s, 5000, new EventEmitter(), { expected: 100_000 });
    const body = crypto.randomBytes(100_000);
    req.write(body.subarray(0, 500));
    req.end(body.subarray(500));
    const b = await p;
    expect({ memory: b.memoryHeld, onDisk: b.onDisk }).toEqual({ memory: 0, onDisk: 100_000 });
    expect(await collect(b)).toEqual(body);
    // Nameless (O_TMPFILE) or unlinked at once: nothing to see in the directory.
    expect(fs.readdirSync(s.dir)).toEqual([]);
    b.release();
  });

  it('keeps memory first for a declared length the disk budget cannot take, and streams the rest', async () => {
    const req = new PassThrough();
    const s = settings({ dir: path.join(dir, 'over-budget'), disk: { free: 10_000 } });
    const p = bufferRequest(req, s, 5000, new EventEmitter(), { expected: 50_000 });
    const body = crypto.randomBytes(50_000);
    req.write(body.subarray(0, 1024));
    req.write(body.subarray(1024, 20_000));
    const b = await p;
    expect({ memory: b.memoryHeld, onDisk: b.onDisk, complete: b.complete }).toEqual({ memory: 1024, onDisk: 0, complete: false });
    req.end(body.subarray(20_000));
    expect(await collect(b, req)).toEqual(body);
    b.release();
  });

  it('closes the file opened ahead when the client leaves before sending a byte', async () => {
    const s = settings({ dir: path.join(dir, 'ahead-gone') });
    const cancel = new EventEmitter();
    const p = bufferRequest(new PassThrough(), s, 5000, cancel, { expected: 1 << 20 });
    cancel.emit('abort');
    // The open was under way when the client left.
    await expectLetGo(p, s);
  });

  it('spills past the memory size to a file and gives the disk budget back on release', async () => {
    const req = new PassThrough();
    const s = settings();
    const p = bufferRequest(req, s, 5000, new EventEmitter());
    const body = crypto.randomBytes(200_000);
    req.end(body);
    const b = await p;
    expect(b.complete).toBe(true);
    expect(s.disk.free).toBeLessThan(1 << 20);
    expect(await collect(b)).toEqual(body);
    expect(fs.readdirSync(s.dir)).toEqual([]);
    b.release();
    expect(s.disk.free).toBe(1 << 20);
  });

  it('streams the rest when the file cannot be written (the spill directory is a file)', async () => {
    const blocked = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocked, '');
    const req = new PassThrough();
    const p = bufferRequest(req, settings({ dir: blocked }), 5000, new EventEmitter());
    const body = crypto.randomBytes(5000);
    req.write(body.subarray(0, 1000));
    req.write(body.subarray(1000, 3000));
    const b = await p;
    expect(b.complete).toBe(false);
    expect(b.more).toBe(true);
    const out = collect(b, req);
    req.end(body.subarray(3000));
    expect(await out).toEqual(body);
  });

  it('leaves no file open and no disk budget taken when cancelled while a spill is under way', async () => {
    const s = settings({ memoryBytes: 0, dir: path.join(dir, 'cancelled') });
    const req = new PassThrough();
    const cancel = new EventEmitter();
    const p = bufferRequest(req, s, 5000, cancel);
    req.write(Buffer.alloc(50_000, 1)); // its spill opens the file…
    req.write(Buffer.alloc(50_000, 2)); // …while this one waits for it
    await new Promise((r) => setImmediate(r));
    cancel.emit('abort');
    await expectLetGo(p, s);
  });

  it('fails with UploadStalled when nothing comes for the stall time, UploadGone when cancelled', async () => {
    const stalled = new PassThrough();
    stalled.write('abc');
    await expect(bufferRequest(stalled, settings(), 100, new EventEmitter())).rejects.toBeInstanceOf(UploadStalled);
    const cancel = new EventEmitter();
    const gone = bufferRequest(new PassThrough(), settings(), 5000, cancel);
    cancel.emit('abort');
    await expect(gone).rejects.toBeInstanceOf(UploadGone);
  });
});
