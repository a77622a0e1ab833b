// A client's request as the body undici uploads, for the node:http/HTTP/2 path. Passing the request
// itself had two faults: undici destroys its body when the app answers before reading all of it (a
// 413), and destroying the client's request resets the client's connection; and once the upload
// was cut, nothing read the client any more. This body reads nothing until undici asks (a refused
// connect still retries with nothing consumed), and letting go of it only detaches from `req`,
// which the caller then drains (drainUpload), as node's server does for its own handlers.
import { Readable } from 'node:stream';

export function uploadBody(req: Readable): Readable {
  let started = false;
  const onData = (chunk: Buffer): void => { if (!body.push(chunk)) req.pause(); };
  const onEnd = (): void => { body.push(null); };
  const onError = (err: Error): void => { body.destroy(err); };
  const body: Readable = new Readable({
    read() {
      if (!started) {
        started = true;
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('error', onError);
      }
      req.resume();
    },
    destroy(err, cb) {
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
