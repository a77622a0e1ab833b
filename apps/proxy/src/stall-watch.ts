// nginx's client_body_timeout on node:http's and HTTP/2's path, for both readers of an upload:
// upload-body.ts (streamed to the app) and request-buffer.ts (read whole first). It runs only while
// the proxy waits for the client; a reader holding the client back (the app reading slowly, a
// file write in progress) stops it, as that is not the client's stalling. The fast path has its
// own (fast/connection-end.ts), on the connection's timer.
export class StallWatch {
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly ms: number, private readonly onStall: () => void) {}

  /** Waiting for the client: starts the watch, or starts it over (a byte came). */
  wait(): void {
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onStall, this.ms);
  }

  /** Not waiting for the client (held back, ended, settled). */
  stop(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }
}
