// Request buffering, as nginx (proxy_request_buffering) and kamal-proxy do by default: the whole
// body is read before the app is asked. Streamed, a client uploading slowly held one of the app's
// workers for as long as it liked (a pre-forking app such as gunicorn has 4: four slow uploaders
// stop it; the body timeout only cuts a client that sends nothing at all). Buffered, it holds a
// buffer here, and the app gets the body at loopback speed, with Content-Length even when the
// client sent it chunked (WSGI servers cannot read chunked uploads).
//
// Up to `memoryBytes` per body stay in memory (nginx: client_body_buffer_size, 16 KiB), the rest in
// a file (buffered-body.ts). The files of all bodies in flight share `disk` bytes; a body that
// would pass it, or a file that cannot be written, keeps what it has and streams the rest as it
// comes (the old behaviour).
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '@dreamnet/core';
import { BufferedBody, type RequestBufferSettings } from './buffered-body.js';
import { StallWatch } from './stall-watch.js';
import { BodyTooLarge, UploadStalled } from './upload-body.js';

export type { BufferedBody, RequestBufferSettings } from './buffered-body.js';

/** The sizes and place of DREAM_PROXY_REQUEST_BUFFERING (also when it is off: an app may turn it on). */
export function requestBufferOf(config: Config): RequestBufferSettings {
  return { memoryBytes: config.proxyRequestBufferMemory, dir: path.join(config.dataDir, 'request-bodies'), disk: { free: config.proxyRequestBufferDisk } };
}

/** The client left (or the request was cut) before its body was all here. */
export class UploadGone extends Error {}

const MAX_PENDING = 1024 * 1024;

interface Cancel { once(e: 'abort', f: () => void): unknown; off(e: 'abort', f: () => void): unknown }

/**
 * Reads `req` into a BufferedBody until it ends, or until a chunk may not be kept (then `req` is
 * left paused with the rest, `more`). Fails with UploadStalled after `stallMs` without a byte
 * (nginx's client_body_timeout; not while a file write holds the client back), with UploadGone
 * when `cancel` fires or the request errors, with BodyTooLarge past `o.limit` bytes. `o.expected`:
 * the length the client declared (0: none), which sizes the memory kept.
 */
export function bufferRequest(req: Readable, s: RequestBufferSettings, stallMs: number, cancel: Cancel, o: { limit?: number; expected?: number } = {}): Promise<BufferedBody> {
  const limit = o.limit ?? Infinity;
  const b = new BufferedBody(s, o.expected ?? 0);
  b.prepare();
  return new Promise<BufferedBody>((resolve, reject) => {
    // Chunks for the file: written in one writev once the write before is done; the client is held
    // back only while more than MAX_PENDING wait (a write per chunk, the client paused meanwhile,
    // halved the speed of a large upload).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    let settled = false;
    const watch = new StallWatch(stallMs, () => fail(new UploadStalled(stallMs)));
    const stop = (): void => {
      settled = true;
      watch.stop();
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
        // Failed meanwhile (stall, limit, cancel): the body is released; nothing more to write or hold back.
        if (settled) return;
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
        if (req.isPaused()) { watch.wait(); req.resume(); }
      });
    };
    const onData = (chunk: Buffer): void => {
      watch.wait();
      b.received += chunk.length;
      if (b.received > limit) { req.pause(); fail(new BodyTooLarge()); return; }
      if (b.keepInMemory(chunk)) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes > MAX_PENDING) { watch.stop(); req.pause(); }
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
    watch.wait();
    req.resume();
  });
}
