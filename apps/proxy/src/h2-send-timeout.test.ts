import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { StreamSendWatch } from './h2-send-timeout.js';

/** What the watch reads of a stream: its write buffer, 'drain', 'close', and close(code). */
class FakeStream extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  closedWith: number | null = null;
  close(code: number): void { this.closedWith = code; this.destroyed = true; this.emit('close'); }
}

function watch(timeoutMs = 1000) {
  const cut: FakeStream[] = [];
  const w = new StreamSendWatch(timeoutMs, (s) => cut.push(s as unknown as FakeStream));
  const s = new FakeStream();
  w.add(s as unknown as http2.ServerHttp2Stream);
  return { w, s, cut };
}

describe('StreamSendWatch', () => {
  it('resets a stream whose waiting bytes the client took none of for the timeout, with INTERNAL_ERROR', () => {
    const { w, s, cut } = watch();
    s.writableLength = 65536;
    w.sweep(1000);
    w.sweep(1999);
    expect(cut).toEqual([]);
    w.sweep(2000);
    expect(cut).toEqual([s]);
    expect(s.closedWith).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });

  it('takes a shrinking buffer or a drain for the client taking bytes, a growing one for the app sending more', () => {
    const { w, s, cut } = watch();
    s.writableLength = 65536;
    w.sweep(1000);
    s.writableLength = 32768; // the client took a write
    w.sweep(1900);
    s.emit('drain'); // the buffer emptied, and the app filled it again to the same length
    w.sweep(2800);
    s.writableLength = 70000; // the app's bytes: no progress of the client's
    w.sweep(3700);
    expect(cut).toEqual([]);
    w.sweep(3800);
    expect(cut).toEqual([s]);
  });

  it('leaves alone a stream with nothing waiting, however long, and counts anew once bytes wait', () => {
    const { w, s, cut } = watch();
    w.sweep(1000);
    w.sweep(60_000);
    s.writableLength = 10;
    w.sweep(61_000);
    w.sweep(61_500);
    expect(cut).toEqual([]);
    w.sweep(62_000);
    expect(cut).toEqual([s]);
  });
});
