// One request body being buffered (request-buffer.ts reads it in): up to `memoryBytes` in memory,
// copied into blocks; the rest appended to a file in `dir`, unlinked as soon as it is open, so a
// crash leaves nothing behind; all bodies' files share the `disk` budget. Replayed to the app as
// often as it is asked (a retry on another replica).
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { openUnlinked } from './unlinked-file.js';

export interface RequestBufferSettings {
  memoryBytes: number;
  dir: string;
  /** Bytes on disk left to all bodies being buffered (shared, mutable). */
  disk: { free: number };
}

const READ_CHUNK = 256 * 1024;
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
  /** Bytes of the body read from the client so far (kept or not). */
  received = 0;
  private reserved = 0;
  private released = false;
  private opening: Promise<FileHandle> | null = null;

  /** `expected`: the length the client declared (0: none), so a small body gets a block its size. */
  constructor(private readonly s: RequestBufferSettings, private readonly expected = 0) {}

  /** The whole body is here: the app gets it with Content-Length, and again on a retry. */
  get complete(): boolean { return !this.more && this.tail.length === 0; }
  get length(): number { return this.memory + this.onDisk; }
  /** Bytes of memory taken by the blocks. */
  get memoryHeld(): number { return this.blocks.reduce((n, b) => n + b.length, this.block?.length ?? 0); }

  /**
   * Keeps a chunk in memory when it still fits there and no file was opened (a body declared larger
   * than memory goes to the file whole, as nginx does: replayed from there anyway). Copied into
   * blocks: a client sending a byte per packet made each its own Buffer (~100 bytes of heap per
   * byte kept: 6 MB per body for 64 KiB). A block is no larger than the declared length still to
   * come: a 300-byte form took a 16 KiB block.
   */
  keepInMemory(chunk: Buffer): boolean {
    if (this.opening || this.memory + chunk.length > this.s.memoryBytes) return false;
    for (let at = 0; at < chunk.length;) {
      if (!this.block || this.used === this.block.length) {
        if (this.block) this.blocks.push(this.block);
        const kept = this.memory + at;
        const due = this.expected > kept ? this.expected - kept : BLOCK;
        this.block = Buffer.allocUnsafe(Math.min(BLOCK, this.s.memoryBytes - kept, due));
        this.used = 0;
      }
      const n = chunk.copy(this.block, this.used, at);
      this.used += n;
      at += n;
    }
    this.memory += chunk.length;
    return true;
  }

  /**
   * Opens the file now, while the first bytes still come, when the declared length will not fit in
   * memory: its open no longer delays the first write (a third of a 1 MB upload's time here).
   */
  prepare(): void {
    // One the disk budget cannot take now keeps memory first and streams the rest, as before.
    if (this.expected > this.s.memoryBytes && this.expected <= this.s.disk.free) this.open().catch(() => {});
  }

  /** The file, opened once. One released meanwhile (the request failed, the client left) is closed: nothing else would. */
  private open(): Promise<FileHandle> {
    return this.opening ??= openUnlinked(this.s.dir).then(async (fh) => {
      if (this.released) { await fh.close().catch(() => {}); throw new Error('released'); }
      return (this.file = fh);
    });
  }

  /** Appends chunks (`bytes` in all) to the file: false when it may not (disk budget, a file error). */
  async spill(chunks: Buffer[], bytes: number): Promise<boolean> {
    if (this.released || this.s.disk.free < bytes) return false;
    this.s.disk.free -= bytes;
    this.reserved += bytes;
    try {
      await this.open();
      if (this.released || !this.file) return false;
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
    this.released = true;
    this.blocks.length = 0;
    this.block = null;
    this.tail = [];
    this.s.disk.free += this.reserved;
    this.reserved = 0;
    void this.file?.close().catch(() => {});
    this.file = null;
  }
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
