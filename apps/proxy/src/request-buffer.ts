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
import { UploadStalled } from './upload-body.js';

export type { BufferedBody, RequestBufferSettings } from './buffered-body.js';

/** The settings of DREAM_PROXY_REQUEST_BUFFERING and its two sizes; null when off. */
export function requestBufferOf(config: Config): RequestBufferSettings | null {
  if (config.proxyRequestBuffering === 'off') return null;
  return { memoryBytes: config.proxyRequestBufferMemory, dir: path.join(config.dataDir, 'request-bodies'), disk: { free: config.proxyRequestBufferDisk } };
}

/** The client left (or the request was cut) before its body was all here. */
export class UploadGone extends Error {}

/** The body went past DREAM_PROXY_MAX_REQUEST_BODY (one without a length, counted as it came). */
export class BodyTooLarge extends Error {}

const MAX_PENDING = 1024 * 1024;

interface Cancel { once(e: 'abort', f: () => void): unknown; off(e: 'abort', f: () => void): unknown }

/**
 * Reads `req` into a BufferedBody until it ends, or until a chunk may not be kept (then `req` is
 * left paused with the rest, `more`). Fails with UploadStalled after `stallMs` without a byte
 * (nginx's client_body_timeout), with UploadGone when `cancel` fires or the request errors, with
 * BodyTooLarge past `maxBytes` (0: no limit).
 */
export function bufferRequest(req: Readable, s: RequestBufferSettings, stallMs: number, cancel: Cancel, maxBytes = 0): Promise<BufferedBody> {
  const b = new BufferedBody(s);
  return new Promise<BufferedBody>((resolve, reject) => {
    // Chunks for the file: written in one writev once the write before is done; the client is held
    // back only while more than MAX_PENDING wait (a write per chunk, the client paused meanwhile,
    // halved the speed of a large upload).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    let seen = 0;
    let settled = false;
    const timer = setTimeout(() => fail(new UploadStalled(stallMs)), stallMs);
    const stop = (): void => {
      settled = true;
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
        if (req.isPaused()) { timer.refresh(); req.resume(); }
      });
    };
    const onData = (chunk: Buffer): void => {
      timer.refresh();
      seen += chunk.length;
      if (maxBytes > 0 && seen > maxBytes) { req.pause(); fail(new BodyTooLarge(`the request body is over ${maxBytes} bytes`)); return; }
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
