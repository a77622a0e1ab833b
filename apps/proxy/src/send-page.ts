// The proxy's own answers on node:http's and HTTP/2's path (forward.ts): a page, and a page to a
// request whose body it leaves unread (the client stopped sending it, or it is over the limit).
import type http from 'node:http';
import http2, { type Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { Page } from './pages.js';
import { drainUpload } from './upload-body.js';

/** The page, or a cut when the response already began (the client must not take it for the app's). */
export function send(res: http.ServerResponse, p: Page): void {
  if (res.headersSent) { res.destroy(); return; }
  res.writeHead(p.status, p.headers);
  res.end(res.req.method === 'HEAD' ? undefined : p.body);
}

/**
 * The page to a request whose upload is not waited for (`body`: what undici was sending of it, cut
 * here): HTTP/1.1 closes the connection after it. HTTP/2: the answer ends our side only, and node
 * leaves the client's open (the response's 'finish' and 'close' never came): RST_STREAM NO_ERROR
 * once the answer is out, as RFC 9113 §8.1 says; the request read on (drainUpload), as node closes
 * the stream only once it ended.
 */
export function sendUnread(req: http.IncomingMessage, res: http.ServerResponse, page: Page, body: Readable | null): void {
  if (req.httpVersionMajor === 2) {
    const stream = (res as unknown as Http2ServerResponse).stream;
    stream.once('finish', () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  } else res.shouldKeepAlive = false;
  drainUpload(req, body);
  send(res, page);
}
