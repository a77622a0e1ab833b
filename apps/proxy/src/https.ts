// The HTTPS listener: TLS with SNI (certificates from the CertificateSource), HTTP/2 with HTTP/1.1
// fallback by ALPN, the same request/upgrade handlers as the plain listener, and a graceful close
// (GOAWAY for HTTP/2 sessions, Connection: close for HTTP/1.1, cut after the drain timeout).
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import { clientErrorHandler } from './client-error.js';
import type { ProxyContext } from './context.js';
import { defaultPemOf } from './default-cert.js';
import { cutSession, cutSocket } from './drain-cut.js';
import type { FastListener } from './fast/listen.js';
import { takeOverConnections } from './fast/listen.js';
import { handleRequest } from './forward.js';
import { H2_HEADER_LIMITS, H2_MAX_CONCURRENT_STREAMS } from './h2.js';
import { destroyAfterFinWait, H2_FIN_WAIT_MS } from './h2-fin-wait.js';
import { closeOnFrameFlood } from './h2-frame-flood.js';
import { closeWhenIdle } from './h2-idle.js';
import { closeOnRapidResets } from './h2-resets.js';
import { StreamSendWatch } from './h2-send-timeout.js';
import { closeWhenUnresponsive, H2_PING_TIMEOUT_MS } from './h2-unresponsive.js';
import { applyRequestParserLimits } from './head-limits.js';
import { rareWarning } from './rare-warning.js';
import { handleUpgrade } from './upgrade.js';

/**
 * How long a connection may take to finish its TLS handshake. Node's default is 120 s: a client
 * opening connections and sending nothing (or half a ClientHello) held each for two minutes (2 000
 * of them: 43 MB, all open after 10 s), where a plain connection that sends nothing is closed
 * after the 5 s keep-alive timeout. A TLS 1.3 handshake is one round trip, so 10 s leaves a slow
 * mobile link room; nginx allows 60 s (client_header_timeout).
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsListener {
  server: http2.Http2SecureServer;
  /** Stop accepting, let in-flight requests finish, cut whatever is left after `drainMs`. */
  close(drainMs: number): Promise<void>;
}

/** `h2IdleMs`: how long an HTTP/2 connection with no open stream stays open (h2-idle.ts). */
export function createTlsListener(ctx: ProxyContext, fast: Omit<FastListener, 'handOff' | 'sendWatch'>, h2IdleMs: number): TlsListener {
  const sessions = new Set<http2.Http2Session>();
  const sockets = new Map<tls.TLSSocket, number>(); // HTTP/1.1-over-TLS sockets → requests in flight
  let closing = false;

  const server = http2.createSecureServer({
    ...defaultPemOf(ctx.certs),
    allowHTTP1: true,
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
    maxHeaderListPairs: H2_HEADER_LIMITS.maxHeaderListPairs,
    maxSendHeaderBlockLength: H2_HEADER_LIMITS.maxSendHeaderBlockLength,
    settings: { maxHeaderListSize: H2_HEADER_LIMITS.maxHeaderListSize, maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS },
    // An unknown name fails the handshake with a TLS alert (handshake_failure); we go on. Not
    // cb(err): node then closes the socket mid-handshake with no alert, which clients report as a
    // network fault (curl SSL_ERROR_SYSCALL, Chromium ERR_CONNECTION_CLOSED). No context instead:
    // OpenSSL goes on with the listener's own, which has no certificate (with the operator's default
    // certificate, secureContext() returned that one already), and refuses with the alert. A
    // served name whose certificate another worker is issuing or just stored waits for it (bounded:
    // tls/handshake-wait.ts) instead of failing until this process notices.
    SNICallback: (servername, cb) => {
      const name = servername.toLowerCase();
      const answer = (sc: tls.SecureContext | undefined) => cb(null, sc);
      const sc = ctx.certs.secureContext(name);
      const soon = sc ? undefined : ctx.certs.secureContextSoon?.(name);
      if (soon) soon.then(answer, () => answer(undefined));
      else answer(sc);
    },
  });
  // node's HTTP/2 server gives its HTTP/1.1 fallback no keep-alive timeout (undefined, unlike
  // http.Server's 5 s): an idle connection the fast path handed to it stayed open for good. The
  // same as the plain listener's and the fast path's (between requests only; never mid-response).
  (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = fast.keepAliveMs;

  // HTTP/1.1 over TLS that the fast path hands off is parsed by node:http's machinery on this server.
  applyRequestParserLimits(server as unknown as http.Server);

  // 'checkContinue' (Expect: 100-continue), HTTP/1.1 and HTTP/2 alike: handleRequest sends the 100.
  const onRequest = (expectsContinue: boolean) => (req: http2.Http2ServerRequest | http.IncomingMessage, res: http2.Http2ServerResponse | http.ServerResponse) => {
    // HTTP/2: handled one event-loop turn later. nghttp2 hands node a whole read's frames at once,
    // and node closes a stream the client reset in that read only after its 'request' ran; handled
    // at once, the app got a connection for each such stream all the same (undici connects before it
    // looks at the abort; measured, rapid reset: 253 app connections for ~7 requests, nginx ≤ 5). A
    // turn later the stream is closed (h2-resets.ts counted it) and it is dropped here: never asked,
    // never logged (it was no request of the client's, and an attacker's would flood the log).
    if (req.httpVersionMajor === 2) {
      const stream = (req as http2.Http2ServerRequest).stream;
      setImmediate(() => { if (!stream.destroyed) handleRequest(ctx, req as http.IncomingMessage, res as http.ServerResponse, expectsContinue); });
      return;
    }
    const s = req.socket as tls.TLSSocket;
    sockets.set(s, (sockets.get(s) ?? 0) + 1);
    if (closing) (res as http.ServerResponse).shouldKeepAlive = false;
    res.once('close', () => {
      if (!sockets.has(s)) return;
      const n = Math.max(0, sockets.get(s)! - 1);
      sockets.set(s, n);
      if (n === 0 && closing) s.end();
    });
    // The compat objects carry what the handler reads (headers, url, method, socket, stream API).
    handleRequest(ctx, req as http.IncomingMessage, res as http.ServerResponse, expectsContinue);
  };
  server.on('request', onRequest(false));
  server.on('checkContinue', onRequest(true));
  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => handleUpgrade(ctx, req, socket, head));
  // HTTP/1.1 over TLS starts on the fast path; HTTP/2 sessions and whatever the fast path hands
  // off go to the http2 server's own handling (HTTP/1.1 fallback included).
  takeOverConnections(server, 'secureConnection', fast, (s) => (s as tls.TLSSocket).alpnProtocol !== 'h2', (s) => {
    const t = s as tls.TLSSocket;
    // An HTTP/2 connection whose session is over waits at most H2_FIN_WAIT_MS for the client's FIN.
    if (t.alpnProtocol === 'h2') return destroyAfterFinWait(t, H2_FIN_WAIT_MS);
    sockets.set(t, 0);
    t.once('close', () => sockets.delete(t));
  });
  // One line a minute per kind, with the count since the first (an attacker reconnecting after
  // each cut would otherwise write a line per connection, ten a second).
  const rapidResets = rareWarning(ctx.log, 'H2_RAPID_RESET', {}, 'HTTP/2: no connection cut for rapid resets for a minute');
  // A stream whose client takes none of its answer for the send timeout is reset (h2-send-timeout.ts).
  const streamSends = new StreamSendWatch(fast.sendTimeoutMs, (s) => ctx.log.debug({ peer: s.session?.socket?.remoteAddress }, 'HTTP/2 stream reset: the client took none of its answer for the send timeout'));
  const frameFloods = rareWarning(ctx.log, 'H2_FRAME_FLOOD', {}, 'HTTP/2: no connection cut for a frame flood for a minute');
  server.on('session', (session: http2.Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    session.on('error', () => session.destroy());
    session.on('stream', (stream: http2.ServerHttp2Stream) => streamSends.add(stream));
    // Rapid reset (CVE-2023-44487): node alone lets one connection start ~1 100 forwards, then
    // stalls it without ever closing it (h2-resets.ts).
    closeOnRapidResets(session as http2.ServerHttp2Session, (resets) => rapidResets({ peer: session.socket?.remoteAddress, resets }, 'HTTP/2 connection closed: too many streams reset by the client (rapid reset); `failed` counts the connections cut since the first'));
    // PRIORITY / WINDOW_UPDATE floods: node reports neither frame, so a connection reading far more
    // than it is useful for is cut, as nginx does (h2-frame-flood.ts).
    closeOnFrameFlood(session as http2.ServerHttp2Session, (cut) => frameFloods({ peer: session.socket?.remoteAddress, ...cut }, 'HTTP/2 connection closed: it read far more than it asked for (frame flood); `failed` counts the connections cut since the first'));
    // A connection nghttp2 gave up on (GOAWAY for a protocol error) is neither read nor closed by
    // node; quiet for as long as an idle one may be, it gets a PING and goes unless answered (h2-unresponsive.ts).
    closeWhenUnresponsive(session as http2.ServerHttp2Session, h2IdleMs, Math.min(H2_PING_TIMEOUT_MS, h2IdleMs), () => ctx.log.debug({ peer: session.socket?.remoteAddress }, 'HTTP/2 connection closed: quiet and no answer to a PING'));
    if (closing) session.close();
    else closeWhenIdle(session as http2.ServerHttp2Session, h2IdleMs);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    ctx.log.debug({ err: err.code ?? err.message, peer: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });
  server.on('clientError', clientErrorHandler(ctx.log));
  server.on('sessionError', (err: Error) => ctx.log.debug({ err: err.message }, 'HTTP/2 session error'));

  const close = (drainMs: number) => new Promise<void>((resolve) => {
    closing = true;
    // What is cut is logged 504 when the app had not answered (drain-cut.ts); the fast path's
    // connections are server.ts's to cut.
    const cut = setTimeout(() => {
      for (const s of sessions) cutSession(s);
      for (const s of sockets.keys()) cutSocket(s);
    }, drainMs);
    server.close(() => { clearTimeout(cut); resolve(); });
    // GOAWAY: clients finish their open streams and open a new connection for anything else.
    for (const s of sessions) s.close();
    // An upgraded socket (WebSocket) is not idle: server.ts closes it with a Close frame first.
    for (const [s, n] of sockets) if (n === 0 && !ctx.upgraded.has(s)) s.end();
  });

  return { server, close };
}
