// A client connection on the fast path: reads request heads off the raw socket (plain or TLS),
// runs one Exchange at a time (pipelined requests wait their turn), answers the proxy's own pages,
// and hands the connection to node:http — with every byte read so far put back — at the first
// request outside the plain subset (fast/head.ts). Node's HTTP server then owns it for good. How it
// ends otherwise, and the access lines: connection-end.ts.
import type { Socket } from 'node:net';
import { clientIp } from '../context.js';
import { requestIdOf } from '../headers.js';
import { rawPage, type Page } from '../pages.js';
import { AnswerPace } from './answer-pace.js';
import { ClientWriter } from './client-writer.js';
import { keepAliveField } from './connection-field.js';
import { abandon, clientFin, logRequest, timerFired, uploadStarts, type CutBy } from './connection-end.js';
import { Exchange, type ExchangeOwner } from './exchange.js';
import { MORE, takeRequest, type RequestHead } from './head.js';
import { lingeringClose } from './linger.js';
import { planRequest, type ClientSide } from './request-plan.js';
import type { SendProgress } from './send-watch.js';
import { handOffToNode, type FastListener } from './listen.js';

/** Pipelined bytes held while a response is in flight (or unread) before we stop reading the client. */
const MAX_BUFFERED = 256 * 1024;

export class ClientConnection implements ExchangeOwner {
  // Not private: connection-end.ts reads and sets these too.
  buf: Buffer | null = null;
  ex: Exchange | null = null;
  req: RequestHead | null = null;
  t0 = 0;
  requestId = '';
  headSince = 0;
  private busy = false;
  private gone = false;
  ended = false; // the client sent FIN
  /** While bytes wait for the client, and while the request's body is due (connection-end.ts timerFired). */
  readonly send: SendProgress = { sent: 0, since: 0 };
  readonly upload = { left: 0, since: 0 };
  readonly timer: NodeJS.Timeout;
  readonly out: ClientWriter;
  readonly keepAlive: Buffer;
  readonly pace: AnswerPace;
  /** Who is asking, made once: its address and our port (getsockname is a syscall) never change. */
  readonly side: ClientSide;

  /**
   * `shared`: the socket reads into this buffer through onRead() (plain and TLS, fast/listen.ts),
   * so a chunk is valid only during the call and whatever is kept is copied (own()). Without it
   * (a node that cannot switch a TLS socket: shared-read.ts) chunks come as 'data' events and are ours.
   */
  constructor(readonly socket: Socket, readonly l: FastListener, private readonly shared: Buffer | null = null) {
    l.conns.add(this);
    this.side = { ctx: l.ctx, proto: l.proto, peer: clientIp({ socket }), port: socket.localPort ?? 0 };
    this.out = new ClientWriter(socket);
    this.keepAlive = keepAliveField(l.keepAliveMs);
    this.pace = new AnswerPace(socket, this.readOn);
    socket.setNoDelay(true);
    if (!shared) socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('end', this.onEnd);
    // One timer per connection, checked when it fires (cheaper than re-arming per request).
    this.timer = setTimeout(this.onTimer, l.keepAliveMs);
  }

  get idle(): boolean { return !this.ex && !this.buf; }

  /** node's onread callback (shared buffer); false stops reading. */
  onRead(n: number, buf: Uint8Array): boolean {
    const chunk = (buf as Buffer).subarray(0, n);
    // Handed to node:http: its parser reads the handle itself; what still reaches us (after an
    // Upgrade, node stops parsing) goes to the stream, as a plain socket would deliver it.
    if (this.gone) return this.socket.push(Buffer.from(chunk));
    this.onData(this.ex?.wantsBody ? Buffer.from(chunk) : chunk);
    if (this.buf) this.buf = this.own(this.buf);
    return true;
  }

  /** `b` itself, or a copy when it is a view of the shared read buffer. */
  private own(b: Buffer): Buffer {
    return this.shared && b.buffer === this.shared.buffer ? Buffer.from(b) : b;
  }

  private onData = (chunk: Buffer): void => {
    if (this.ex?.wantsBody) { const rest = this.ex.body(chunk); if (!rest) return; chunk = rest; }
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    // A response in flight, or answers the client has not read: what it pipelines waits, up to a bound.
    if (this.ex || this.pace.waiting) { if (this.buf.length > MAX_BUFFERED) this.socket.pause(); return; }
    this.next();
  };

  private next(): void {
    if (this.busy) return;
    this.busy = true;
    // Stops once answers wait to be read (pace), before the first request too: the rest of a
    // pipelined batch for our own pages was answered regardless, a 'drain' listener each (a
    // MaxListenersExceededWarning).
    while (!this.ex && this.buf && !this.gone && !this.pace.waiting) {
      const read = this.buf;
      const r = takeRequest(read);
      if (r === MORE) { this.headSince ||= Date.now(); break; }
      if (!r) { this.handOff(); break; }
      this.buf = null;
      this.headSince = 0;
      // Before the first route table its decision waits, and a body still to come is read whole:
      // node:http's handler does either (decide.ts, request-buffer.ts).
      if (!this.begin(r.head, r.rest)) { this.buf = read; this.handOff(); break; }
    }
    this.busy = false;
  }

  /** False when the request is to go to node:http, as read (nothing of it was acted on). */
  private begin(head: RequestHead, rest: Buffer | null): boolean {
    const { ctx } = this.l;
    this.req = head;
    this.t0 = ctx.access ? performance.now() : 0;
    const plan = planRequest(this.side, head, this.requestId = requestIdOf(head.headers), rest?.length ?? 0);
    if (plan === null) return false;
    if ('page' in plan) {
      // Our own answer never reads a request body: close rather than skip it.
      this.buf = rest;
      this.answer(plan.page, head.contentLength > 0);
      return true;
    }
    this.ex = new Exchange(ctx, this.l.pool, this, plan.request);
    this.ex.start();
    this.buf = rest && this.ex?.wantsBody ? this.ex.body(this.own(rest)) : rest;
    uploadStarts(this);
    return true;
  }

  /** `unreadBody`: the request's body is still arriving (our answer never reads one): close after. `sentBefore`: bytes of 1xx responses the client already got; `upstream`: the app asked, if one was. */
  answer(p: Page, unreadBody: boolean, sentBefore = 0, upstream = '-'): void {
    this.ex = null;
    const close = unreadBody || this.req!.close || this.l.ctx.draining === true;
    const raw = rawPage(p, this.req!.method, close, this.l.keepAliveMs);
    this.socket.write(raw);
    this.finished(!close, p.status, sentBefore + Buffer.byteLength(raw), upstream, unreadBody);
  }

  finished(keepAlive: boolean, status: number, bytes: number, upstream: string, unreadBody = false): void {
    this.ex = null;
    if (this.l.ctx.access) logRequest(this, status, bytes, upstream);
    // Else an idle keep-alive connection holds its last request (head, headers, id) until the next
    // one or the keep-alive timeout: on a busy proxy long enough to outlive two scavenges, be
    // promoted and wait for a full GC (measured: 4.3 → 2.3 KB of heap per idle connection).
    this.req = null;
    this.requestId = '';
    // A body still arriving that nobody will read: lingering close (linger.ts), not a reset.
    if (!keepAlive) { if (unreadBody) { this.detach(); lingeringClose(this.socket); } else this.end(); return; }
    if (this.ended && !this.buf) { this.end(); return; }
    this.timer.refresh();
    if (!this.pace.hold()) this.readOn(); // else once the client has read its answers (answer-pace.ts)
  }

  /** The app broke off its answer (exchange.ts): logged with its status and the bytes sent, then cut. */
  broken(status: number, bytes: number, upstream: string): void {
    this.ex = null;
    if (this.l.ctx.access) logRequest(this, status, bytes, upstream);
    this.destroy();
  }

  /** Reads on and starts the next pipelined request. */
  private readOn = (): void => {
    if (this.gone) return;
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
    // It sent FIN meanwhile and nothing it asked is left to answer.
    if (this.ended && !this.ex && !this.gone) this.end();
  };

  /** Stops reading and gives the socket, with what was read, to node:http. */
  private handOff(): void {
    this.detach();
    const read = this.buf && this.own(this.buf);
    this.buf = null;
    handOffToNode(this.l, this.socket, read);
  }

  private detach(): void {
    this.gone = true;
    clearTimeout(this.timer);
    this.pace.stop();
    this.l.conns.delete(this);
    if (!this.shared) this.socket.off('data', this.onData);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    this.socket.off('end', this.onEnd);
  }

  end(): void {
    if (this.gone) return;
    this.detach();
    this.socket.on('error', () => {});
    this.socket.end();
  }

  /** Cuts the connection; a request in flight is aborted and logged (abandon(): 499, the client's leaving, unless `by` says otherwise). */
  destroy(by: CutBy = 499): void {
    abandon(this, by);
    this.detach();
    this.socket.destroy();
  }

  /** A stopping proxy cuts the connection at the drain timeout (server.ts): a request the app has not answered yet is logged 504. */
  cut(): void { this.destroy(504); }

  private onTimer = (): void => { timerFired(this); };
  private onError = (): void => { this.destroy(); };
  private onEnd = (): void => { clientFin(this); };
  private onClose = (): void => { abandon(this, 499); this.detach(); };
}
