// Request buffering, as nginx (proxy_request_buffering) and kamal-proxy do by default: the whole
// body is read before the app is asked. Streamed, a client uploading slowly held one of the app's
// workers for as long as it liked (a pre-forking app such as gunicorn has 4: four slow uploaders
// stop it; the body timeout only cuts a client that sends nothing at all). Buffered, it holds a
// buffer here, and the app gets the body at loopback speed, with Content-Length even when the
// client sent it chunked (WSGI servers cannot read chunked uploads).
//
// Up to `memoryBytes` per body stay in memory (nginx: client_body_buffer_size, 16 KiB); the rest
// goes to a file in `dir`, unlinked as soon as it is open, so a crash leaves nothing behind. The
// files of all bodies in flight share `disk` bytes; a body that would pass it, or a file that
// cannot be written, keeps what it has and streams the rest as it comes (the old behaviour).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '@dreamnet/core';
import { UploadStalled } from './upload-body.js';

export interface RequestBufferSettings {
  memoryBytes: number;
  dir: string;
  /** Bytes on disk left to all bodies being buffered (shared, mutable). */
  disk: { free: number };
}

/** The settings of DREAM_PROXY_REQUEST_BUFFERING and its two sizes; null when off. */
export function requestBufferOf(config: Config): RequestBufferSettings | null {
  if (config.proxyRequestBuffering === 'off') return null;
  return { memoryBytes: config.proxyRequestBufferMemory, dir: path.join(config.dataDir, 'request-bodies'), disk: { free: config.proxyRequestBufferDisk } };
}

/** The client left (or the request was cut) before its body was all here. */
export class UploadGone extends Error {}

const READ_CHUNK = 256 * 1024;
const MAX_PENDING = 1024 * 1024;
const BLOCK = 16 * 1024;

export class BufferedBody {
  /** Full blocks of the memory part, then `block` up to `used`. */
  private readonly blocks: Buffer[] = [];
  private block: Buffer | null = null;
  private used = 0;
  memory = 0;
  file: FileHandle | null = null;
  onDisk = 0;
  /** What came but was not kept (disk budget, a file error): sent after the kept bytes. */
  tail: Buffer[] = [];
  /** The client is still sending: its request streams after the tail. */
  more = true;
  private reserved = 0;

  constructor(private readonly s: RequestBufferSettings) {}

  /** The whole body is here: the app gets it with Content-Length, and again on a retry. */
  get complete(): boolean { return !this.more && this.tail.length === 0; }
  get length(): number { return this.memory + this.onDisk; }

  /**
   * Keeps a chunk in memory when it still fits there (nothing has gone to disk yet). Copied into
   * blocks: a client sending a byte per packet made each its own Buffer (~100 bytes of heap per
   * byte kept: 6 MB per body for 64 KiB).
   */
  keepInMemory(chunk: Buffer): boolean {
    if (this.file || this.memory + chunk.length > this.s.memoryBytes) return false;
    for (let at = 0; at < chunk.length;) {
      if (!this.block || this.used === this.block.length) {
        if (this.block) this.blocks.push(this.block);
        this.block = Buffer.allocUnsafe(Math.min(BLOCK, this.s.memoryBytes - this.memory - at));
        this.used = 0;
      }
      const n = chunk.copy(this.block, this.used, at);
      this.used += n;
      at += n;
    }
    this.memory += chunk.length;
    return true;
  }

  /** Appends chunks (`bytes` in all) to the file: false when it may not (disk budget, a file error). */
  async spill(chunks: Buffer[], bytes: number): Promise<boolean> {
    if (this.s.disk.free < bytes) return false;
    this.s.disk.free -= bytes;
    this.reserved += bytes;
    try {
      this.file ??= await openUnlinked(this.s.dir);
      await writeAll(this.file, chunks, this.onDisk);
      this.onDisk += bytes;
      return true;
    } catch {
      return false;
    }
  }

  /** What the app is sent: the kept bytes (again on each attempt), the tail, then `rest` while `more`. */
  async *replay(rest: Readable | null): AsyncGenerator<Buffer> {
    for (const b of this.blocks) yield b;
    if (this.block && this.used > 0) yield this.block.subarray(0, this.used);
    for (let at = 0; this.file && at < this.onDisk;) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, this.onDisk - at));
      const { bytesRead } = await this.file.read(buf, 0, buf.length, at);
      if (bytesRead === 0) throw new Error('the request buffer file is shorter than written');
      at += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
    yield* this.tail;
    if (this.more && rest) yield* rest;
  }

  /** Gives back memory, file and disk budget; called once the request is over. */
  release(): void {
    this.blocks.length = 0;
    this.block = null;
    this.tail = [];
    this.s.disk.free += this.reserved;
    this.reserved = 0;
    void this.file?.close().catch(() => {});
    this.file = null;
  }
}

async function openUnlinked(dir: string): Promise<FileHandle> {
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  const name = path.join(dir, randomUUID());
  const fh = await fs.promises.open(name, 'wx+', 0o600);
  await fs.promises.unlink(name).catch(() => {});
  return fh;
}

async function writeAll(fh: FileHandle, chunks: Buffer[], at: number): Promise<void> {
  let left = chunks;
  while (left.length > 0) {
    let { bytesWritten } = await fh.writev(left, at);
    at += bytesWritten;
    // A short write: skip what went, go on with the rest.
    while (left.length > 0 && bytesWritten >= left[0]!.length) { bytesWritten -= left[0]!.length; left = left.slice(1); }
    if (bytesWritten > 0) left = [left[0]!.subarray(bytesWritten), ...left.slice(1)];
  }
}

interface Cancel { once(e: 'abort', f: () => void): unknown; off(e: 'abort', f: () => void): unknown }

/**
 * Reads `req` into a BufferedBody until it ends, or until a chunk may not be kept (then `req` is
 * left paused with the rest, `more`). Fails with UploadStalled after `stallMs` without a byte
 * (nginx's client_body_timeout), with UploadGone when `cancel` fires or the request errors.
 */
export function bufferRequest(req: Readable, s: RequestBufferSettings, stallMs: number, cancel: Cancel): Promise<BufferedBody> {
  const b = new BufferedBody(s);
  return new Promise<BufferedBody>((resolve, reject) => {
    // Chunks for the file: written in one writev once the write before is done; the client is held
    // back only while more than MAX_PENDING wait (a write per chunk, the client paused meanwhile,
    // halved the speed of a large upload).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    const timer = setTimeout(() => fail(new UploadStalled(stallMs)), stallMs);
    const stop = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      cancel.off('abort', onCancel);
    };
    const fail = (err: Error): void => { stop(); b.release(); reject(err); };
    const done = (): void => { stop(); resolve(b); };
    const flush = (): void => {
      const batch = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      writing = true;
      void b.spill(batch, bytes).then((kept) => {
        writing = false;
        if (!kept) {
          // Streams from here: what was not kept first, then whatever the client still sends.
          req.pause();
          b.tail = [...batch, ...pending];
          pending = [];
          done();
          return;
        }
        if (pending.length > 0) { flush(); return; }
        if (!b.more) { done(); return; }
        if (req.isPaused()) { timer.refresh(); req.resume(); }
      });
    };
    const onData = (chunk: Buffer): void => {
      timer.refresh();
      if (b.keepInMemory(chunk)) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_PENDING) req.pause();
      if (!writing) flush();
    };
    const onEnd = (): void => {
      b.more = false;
      if (!writing) done();
    };
    const onError = (): void => fail(new UploadGone('the request failed before its body was read'));
    const onCancel = (): void => fail(new UploadGone('the client left before its body was read'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    cancel.once('abort', onCancel);
    req.resume();
  });
}
