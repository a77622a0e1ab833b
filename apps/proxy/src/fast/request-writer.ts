// The request side of one exchange (the response side is client-writer.ts): the upstream head and
// the Content-Length body as the client sends it. Body bytes that arrive before the upstream
// connection is up are held, so a refused connect can go to another endpoint with nothing lost,
// and leave with the head in one writev; a slow upstream pauses the client.
import type { Socket } from 'node:net';

export class RequestWriter {
  /** Body bytes still to come from the client. */
  left: number;
  /** Body bytes went to an upstream: a failure now cannot be retried elsewhere. */
  sent = false;
  private pending: Buffer[] | null = null;
  private up: Socket | null = null;
  private awaitingDrain = false;

  /** `exchange.over`: body bytes that arrive after the exchange ended are dropped. */
  constructor(private readonly head: string, contentLength: number, private readonly client: Socket, private readonly exchange: { readonly over: boolean }) {
    this.left = contentLength;
  }

  get sending(): boolean { return this.up !== null; }

  /** The upstream connection is up: the head and the body held so far go out. */
  start(up: Socket): void {
    this.up = up;
    if (!this.pending) { up.write(this.head, 'latin1'); return; }
    up.cork();
    up.write(this.head, 'latin1');
    for (const b of this.pending) up.write(b);
    this.sent = true;
    this.pending = null;
    up.uncork();
  }

  /** This attempt failed: hold what comes next for the next one. */
  stop(): void { this.up = null; }

  /** Request body bytes from the client (ours to keep); returns what lies beyond this request's body. */
  body(chunk: Buffer): Buffer | null {
    const take = Math.min(this.left, chunk.length);
    const part = take === chunk.length ? chunk : chunk.subarray(0, take);
    this.left -= take;
    if (this.exchange.over) { /* dropped */ } else if (this.up) {
      this.sent = true;
      if (!this.up.write(part)) this.pauseClientUntilDrain(this.up);
    } else (this.pending ??= []).push(part);
    return take === chunk.length ? null : chunk.subarray(take);
  }

  // Once per stall: chunks the client's socket delivers after pause() (a TLS read decrypts several
  // records at once) each found the upstream full, and each added a 'drain' listener.
  private pauseClientUntilDrain(up: Socket): void {
    this.client.pause();
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    up.once('drain', () => {
      this.awaitingDrain = false;
      if (!this.exchange.over && this.left > 0) this.client.resume();
    });
  }
}
