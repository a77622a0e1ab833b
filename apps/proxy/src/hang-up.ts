// The signal undici gets for one forwarded request: an EventEmitter is far cheaper per request
// than an AbortController, and undici takes either.
import { EventEmitter } from 'node:events';

export class HangUp extends EventEmitter {
  aborted = false;
  reason: Error | undefined;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new Error('client closed the connection');
    this.emit('abort');
  }
}
