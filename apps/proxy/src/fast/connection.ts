// A client connection on the fast path: reads request heads off the raw socket (plain or TLS),
// runs one Exchange at a time (pipelined requests wait their turn), answers the proxy's own pages,
// and hands the connection to node:http — with every byte read so far put back — at the first
// request outside the plain subset (fast/head.ts). Node's HTTP server then owns it for good.
import type { Socket } from 'node:net';
import { accessEntry } from '../access-log.js';
import { clientIp } from '../context.js';
import { requestIdOf } from '../headers.js';
import { rawPage, type Page } from '../pages.js';
import { AnswerPace } from './answer-pace.js';
import { ClientWriter } from './client-writer.js';
import { Exchange, type ExchangeOwner } from './exchange.js';
import { MORE, takeRequest, type RequestHead } from './head.js';
import { lingeringClose } from './linger.js';
import { planRequest, type ClientSide } from './request-plan.js';
import { handOffToNode, type FastListener } from './listen.js';

/** Pipelined bytes held while a response is in flight (or unread) before we stop reading the client. */
const MAX_BUFFERED = 256 * 1024;

export class ClientConnection implements ExchangeOwner {
  private buf: Buffer | null = null;
  private ex: Exchange | null = null;
  private req: RequestHead | null = null;
  private t0 = 0;
  private requestId = '';
  private headSince = 0;
  private busy = false;
  private gone = false;
  private readonly timer: NodeJS.Timeout;
  readonly out: ClientWriter;
  private readonly pace: AnswerPace;
  /** Who is asking, made once: its address and our port (getsockname is a syscall) never change. */
  private readonly side: ClientSide;

  /**
   * `shared`: the socket reads into this buffer through onRead() (plain listener, fast/listen.ts),
   * so a chunk is valid only during the call and whatever is kept is copied (own()). Without it
   * (TLS) chunks come as 'data' events and are ours.
   */
  constructor(readonly socket: Socket, private readonly l: FastListener, private readonly shared: Buffer | null = null) {
    l.conns.add(this);
    this.side = { ctx: l.ctx, proto: l.proto, peer: clientIp({ socket }), port: socket.localPort ?? 0 };
    this.out = new ClientWriter(socket);
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
    if (this.busy || this.pace.waiting) return;
    this.busy = true;
    while (!this.ex && this.buf && !this.gone) {
      const read = this.buf;
      const r = takeRequest(read);
      if (r === MORE) { this.headSince ||= Date.now(); break; }
      if (!r) { this.handOff(); break; }
      this.buf = null;
      this.headSince = 0;
      // Before the first route table its decision waits: node:http's handler does that (decide.ts).
      if (!this.begin(r.head, r.rest)) { this.buf = read; this.handOff(); break; }
    }
    this.busy = false;
  }

  /** False when the request is to go to node:http, as read (nothing of it was acted on). */
  private begin(head: RequestHead, rest: Buffer | null): boolean {
    const { ctx } = this.l;
    this.req = head;
    this.t0 = ctx.access ? performance.now() : 0;
    const plan = planRequest(this.side, head, this.requestId = requestIdOf(head.headers));
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
    return true;
  }

  /** `unreadBody`: the request's body is still arriving (our answer never reads one): close after. */
  answer(p: Page, unreadBody: boolean): void {
    this.ex = null;
    const close = unreadBody || this.req!.close || this.l.ctx.draining === true;
    const raw = rawPage(p, this.req!.method, close);
    this.socket.write(raw);
    this.finished(!close, p.status, Buffer.byteLength(raw), '-', unreadBody);
  }

  finished(keepAlive: boolean, status: number, bytes: number, upstream: string, unreadBody = false): void {
    this.ex = null;
    if (this.l.ctx.access) this.logged(status, bytes, upstream);
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

  private logged(status: number, bytes: number, upstream: string): void {
    const req = this.req!;
    const { ctx } = this.l;
    const asked = { method: req.method, host: String(req.headers.host), path: req.target, proto: '1.1', xff: req.headers['x-forwarded-for'], peer: this.side.peer, requestId: this.requestId, t0: this.t0 };
    ctx.access!(accessEntry(asked, ctx.trusted, status, bytes, upstream));
  }

  /** The app broke off its answer (exchange.ts): logged with its status and the bytes sent, then cut. */
  broken(status: number, bytes: number, upstream: string): void {
    this.ex = null;
    if (this.l.ctx.access) this.logged(status, bytes, upstream);
    this.destroy();
  }

  /**
   * The client left (FIN, reset, close), or a stopping proxy cuts the connection (destroy()), with a
   * request in flight: the app's request is closed, and logged as nginx logs it — 499 before any of
   * the answer went out (504 when the proxy cut it, context.ts `cutting`), else the app's status and
   * the bytes the client got. An exchange over already has had its line.
   */
  private abandon(): void {
    const ex = this.ex;
    this.ex = null;
    if (!ex || ex.over) return;
    ex.abort();
    if (this.l.ctx.access && this.req) this.logged(ex.status || (this.l.ctx.cutting ? 504 : 499), this.out.bytes, ex.upstream || '-');
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

  /** Cuts the connection; a request in flight is aborted and logged (abandon()). */
  destroy(): void {
    this.abandon();
    this.detach();
    this.socket.destroy();
  }

  private onTimer = (): void => {
    if (this.ex || this.pace.waiting) { this.timer.refresh(); return; }
    // A head that has not finished arriving within headTimeoutMs (slowloris) is cut; an idle
    // keep-alive connection is closed after keepAliveMs.
    if (this.buf && this.headSince && Date.now() - this.headSince < this.l.headTimeoutMs) { this.timer.refresh(); return; }
    this.destroy();
  };

  private onError = (): void => { this.destroy(); };

  // The client sent FIN (the server allows half-open sockets). With a request in flight that is the
  // client giving up (a long poll it no longer wants, a slow page it closed): as nginx does
  // (proxy_ignore_client_abort off) and node:http here, the app's request is closed at once (499),
  // where before the app kept working on it, and the proxy its upstream connection, until it
  // answered — and a request whose body was still arriving never would be (the app waited for the
  // rest for as long as it allowed). Else, answers it has not read yet still go out, then we close.
  private ended = false;
  private onEnd = (): void => {
    this.ended = true;
    if (this.ex) { this.destroy(); return; }
    if (this.pace.waiting) return; // readOn answers what it asked, then ends
    this.end();
  };

  private onClose = (): void => {
    this.abandon();
    this.detach();
  };
}
