// One request → response on the fast path: pick an endpoint, write the head (and Content-Length
// body) to a pooled upstream connection, relay the response head rewritten and its body byte for
// byte, knowing where it ends (length, chunked, or upstream close). Retry rules as in forward.ts
// (retry.ts): a refused connect goes to another endpoint for any method (nothing was sent: we only
// write once connected); a reset or close before a whole response head (the part read is dropped),
// a malformed head, or a 101 (no upgrade goes this way) is retried for idempotent methods without a body.
// What a failed attempt leads to: exchange-failure.ts.
import type { ProxyContext } from '../context.js';
import { MAX_RESPONSE_FIELDS, RESPONSE_HEAD_READ_BOUND, RESPONSE_HEAD_TOO_LARGE } from '../head-limits.js';
import { pages, type Page } from '../pages.js';
import { MALFORMED_RESPONSE_HEAD, UNASKED_UPGRADE } from '../retry.js';
import { BodyEnd } from './body.js';
import { clientResponseHead } from './client-head.js';
import type { ClientWriter } from './client-writer.js';
import { CLOSE_FIELD } from './connection-field.js';
import { attemptFailed, brokenResponse, exhausted } from './exchange-failure.js';
import type { ExchangeOwner, ExchangeRequest } from './exchange-types.js';
import type { UpstreamConn, UpstreamPool, UpstreamUser } from './pool.js';
import { RequestWriter } from './request-writer.js';
import { parseResponseHead, type ResponseHead } from './response-head.js';
import { BARE_LF, MORE, responseHeadEnd } from './response-head-end.js';

export type { ExchangeOwner, ExchangeRequest } from './exchange-types.js';

export class Exchange implements UpstreamUser {
  // Not private: exchange-failure.ts reads and sets these too.
  conn: UpstreamConn | null = null;
  key = '';
  release: () => void = () => {};
  attempts = 0;
  tried: Set<string> | undefined;
  headBuf: Buffer | null = null;
  res: ResponseHead | null = null;
  private bodyEnd: BodyEnd | null = null;
  private reusable = true;
  private closeClient = false;
  done = false;
  /** The last attempt's app answered a wrong head: what the 502 names when no replica is left. */
  invalid: string | undefined;

  constructor(readonly ctx: ProxyContext, private readonly pool: UpstreamPool, readonly owner: ExchangeOwner, readonly req: ExchangeRequest) {
    this.out = owner.out;
    this.out.reset();
    this.up = new RequestWriter(req.head, req.contentLength, owner.socket, this);
  }

  readonly out: ClientWriter;
  readonly up: RequestWriter;

  get wantsBody(): boolean { return this.up.left > 0; }
  /** Request body bytes still due from the client. */
  get bodyLeft(): number { return this.up.left; }

  get over(): boolean { return this.done; }

  /** The app's status once its response head came, else 0 (the access log of a request the client left). */
  get status(): number { return this.res?.status ?? 0; }

  /** The endpoint of the current attempt ("host:port"), '' before one was picked. */
  get upstream(): string { return this.key; }

  start(): void {
    this.attempts++;
    // Re-read the table: a retry must not go to an endpoint a newer version removed.
    const table = this.ctx.table();
    const route = table.get(this.req.host);
    if (!route || route.endpoints.length === 0) return this.fail(this.tried ? exhausted(this) : pages.noReplica(this.req.route.app, this.req.requestId, this.req.headers));
    const ep = table.pick(route, this.ctx.endpoints.isDown, this.tried, this.ctx.endpoints.inFlight);
    if (!ep) return this.fail(exhausted(this));
    this.key = ep.key;
    this.release = this.ctx.endpoints.acquire(this.key);
    this.conn = this.pool.get(this.key, ep, this);
    if (this.conn.connected) this.up.start(this.conn.socket);
  }

  onConnect(): void { if (!this.done && !this.up.sending) this.up.start(this.conn!.socket); }

  /** Request body bytes from the client (ours to keep); returns what lies beyond this request's body. */
  body(chunk: Buffer): Buffer | null { return this.up.body(chunk); }

  onData(b: Buffer): void {
    if (this.done) return;
    this.out.upstream = this.conn?.socket ?? null;
    if (this.res) return this.forward(b);
    // `b` is only valid during this call (pool.ts): a partial head is copied, a whole one is not.
    const buf = this.headBuf ? Buffer.concat([this.headBuf, b]) : b;
    const end = responseHeadEnd(buf, buf.length - b.length);
    if (end === BARE_LF) return this.malformed('bare LF in the response head');
    if (end === MORE) {
      this.headBuf = buf === b ? Buffer.from(b) : buf;
      if (buf.length > RESPONSE_HEAD_READ_BOUND) brokenResponse(this, 'response head too large', RESPONSE_HEAD_TOO_LARGE);
      return;
    }
    const head = parseResponseHead(buf, end, this.req.method);
    const rest = buf.subarray(end + 4);
    this.headBuf = null;
    if (!head) return this.malformed('invalid response head');
    // Upgrades never take the fast path: a 101 here answers a request that asked for none.
    if (head.status === 101) return this.malformed('101 to a request without Upgrade', UNASKED_UPGRADE);
    // The same limit as forward.ts and upgrade.ts apply (head-limits.ts).
    if (head.fieldsSize > MAX_RESPONSE_FIELDS) return brokenResponse(this, 'response head too large', RESPONSE_HEAD_TOO_LARGE);
    if (head.status < 200) {
      // Informational (103 Early Hints…): pass it on and read the real response after it.
      this.out.writeOwn(clientResponseHead(head, this.req.requestId, { chunked: false, connection: null }));
      if (rest.length) this.onData(rest);
      return;
    }
    this.res = head;
    if (head.close) this.reusable = false;
    // An app may answer before reading the whole body (a 413, a redirect): the rest cannot be
    // skipped on a connection we would keep, so this response says close.
    this.closeClient = this.req.clientClose || this.ctx.draining === true || head.framing.kind === 'close' || this.up.left > 0;
    this.bodyEnd = new BodyEnd(head.framing);
    this.out.startBatch(clientResponseHead(head, this.req.requestId, { chunked: head.framing.kind === 'chunked', connection: this.closeClient ? CLOSE_FIELD : this.owner.keepAlive }));
    if (this.bodyEnd.done) {
      if (rest.length) this.reusable = false;
      this.out.flush();
      return this.complete();
    }
    if (rest.length) this.forward(rest);
    if (this.out.batching) this.out.flush();
  }

  private forward(b: Buffer): void {
    let n: number;
    try { n = this.bodyEnd!.feed(b); } catch (e) { return brokenResponse(this, (e as Error).message); }
    this.out.write(n === b.length ? b : b.subarray(0, n));
    if (!this.bodyEnd!.done) return;
    if (n < b.length) this.reusable = false; // bytes past the body: the app is confused
    this.complete();
  }

  onEnd(): void {
    if (this.done) return;
    if (this.res?.framing.kind === 'close') { this.reusable = false; return this.complete(); }
    this.onError(Object.assign(new Error('upstream closed the connection mid-response'), { code: 'ECONNRESET' }));
  }

  // Part of a head read before a close or reset is dropped, as a malformed one is: the client saw
  // none of it, so only the request body counts as committed (undici retries it the same way).
  onError(err: NodeJS.ErrnoException): void {
    if (this.done) return;
    attemptFailed(this, err, this.up.sent);
  }

  /** The app answered a head the client cannot get (`what` names it in the 502); as above for what counts as committed. */
  private malformed(reason: string, what = MALFORMED_RESPONSE_HEAD): void {
    attemptFailed(this, new Error(reason), this.up.sent, what);
  }

  /** The client went away: stop the upstream work. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.conn) { this.conn.user = null; this.conn.socket.destroy(); this.conn = null; }
    this.release();
  }

  /** Answered with the proxy's own page (exchange-failure.ts too). */
  fail(page: Page): void {
    this.done = true;
    this.conn = null;
    // An unread request body cannot be skipped safely: close after the answer. The bytes of 1xx
    // responses passed on before it count as the client's too.
    this.owner.answer(page, this.up.left > 0, this.out.bytes);
  }

  private complete(): void {
    if (this.out.batching) this.out.flush();
    this.done = true;
    const conn = this.conn!;
    this.conn = null;
    // Paused for a slow client: unpaused, and no longer this client's to resume (client-writer.ts).
    this.out.release();
    if (this.reusable && this.up.left === 0) this.pool.put(conn, this.res!.keepAliveMs);
    else { conn.user = null; conn.socket.destroy(); }
    this.release();
    this.owner.finished(!this.closeClient, this.res!.status, this.out.bytes, this.key, this.up.left > 0);
  }
}
