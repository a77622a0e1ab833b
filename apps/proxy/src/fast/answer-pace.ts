// A client's next pipelined request waits until it has read what it was answered. Answering its
// pipelined requests regardless piled the answers up in the proxy's memory: a client pipelining
// requests for the proxy's own pages and reading nothing took its RSS from 91 to 600 MB in 8 s
// (test/integration/proxy-backpressure.test.ts). Its unread requests stay in the kernel instead.
import type { Socket } from 'node:net';

export class AnswerPace {
  /** Waiting for the client's 'drain'. */
  waiting = false;

  constructor(private readonly socket: Socket, private readonly go: () => void) {}

  /** True when the client has answers it has not read: `go` runs once it has. */
  hold(): boolean {
    if (this.waiting) return true;
    if (!this.socket.writableNeedDrain) return false;
    this.waiting = true;
    this.socket.once('drain', this.onDrain);
    return true;
  }

  stop(): void { this.socket.off('drain', this.onDrain); }

  private onDrain = (): void => {
    this.waiting = false;
    this.go();
  };
}
