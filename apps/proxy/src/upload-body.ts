// A client's request as the body undici uploads, for the node:http/HTTP/2 path. Passing the request
// itself had two faults: undici destroys its body when the app answers before reading all of it (a
// 413), and destroying the client's request resets the client's connection; and once the upload
// was cut, nothing read the client any more. This body reads nothing until undici asks (a refused
// connect still retries with nothing consumed), and letting go of it only detaches from `req`,
// which the caller then drains (drainUpload), as node's server does for its own handlers.
//
// While undici wants more and the client sends nothing for `stallMs`, the body fails with
// UploadStalled (stall-watch.ts; forward.ts answers 408). Before, a chunked upload that stopped was
// cut only by node's 300 s requestTimeout, and an HTTP/2 one never (the connection answers PINGs,
// the stream is open). Past `limit` bytes (DREAM_PROXY_MAX_REQUEST_BODY, what is left of it after
// the part buffered) it fails with BodyTooLarge (413): a body without a length is counted as it
// comes, as nginx does for chunked uploads, buffered or not.
import type http from 'node:http';
import { Readable } from 'node:stream';
import { StallWatch } from './stall-watch.js';

/** The client sent none of the upload undici was waiting for, for the body timeout. */
export class UploadStalled extends Error {
  constructor(ms: number) { super(`the client sent none of its request body for ${ms} ms`); }
}

/** The body went past DREAM_PROXY_MAX_REQUEST_BODY (one without a length, counted as it came). */
export class BodyTooLarge extends Error {
  constructor() { super('the request body is over DREAM_PROXY_MAX_REQUEST_BODY'); }
}

/** `limit`: bytes it may still bring (Infinity: no limit). */
export function uploadBody(req: Readable, stallMs: number, limit = Infinity): Readable {
  let started = false;
  let seen = 0;
  const watch = new StallWatch(stallMs, () => body.destroy(new UploadStalled(stallMs)));
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > limit) { req.pause(); body.destroy(new BodyTooLarge()); return; }
    if (body.push(chunk)) watch.wait();
    else { watch.stop(); req.pause(); }
  };
  const onEnd = (): void => { watch.stop(); body.push(null); };
  const onError = (err: Error): void => { body.destroy(err); };
  const body: Readable = new Readable({
    read() {
      if (!started) {
        started = true;
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('error', onError);
      }
      if (!req.readableEnded) watch.wait();
      req.resume();
    },
    destroy(err, cb) {
      watch.stop();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      cb(err);
    },
  });
  return body;
}

/** After the response: whatever of the upload is still coming is read and dropped. */
export function drainUpload(req: Readable & { complete?: boolean }, body: Readable | null): void {
  body?.destroy();
  if (req.complete === false) req.resume();
}

/** Whether a body follows the request's head. */
export function hasBody(req: http.IncomingMessage): boolean {
  // HTTP/2: a body follows unless the HEADERS frame ended the stream.
  const h2 = (req as unknown as { stream?: { endAfterHeaders: boolean } }).stream;
  if (h2) return !h2.endAfterHeaders;
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}
