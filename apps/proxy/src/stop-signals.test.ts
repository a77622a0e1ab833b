// Signals before and after the proxy runs, on a stand-in for `process` (real processes:
// test/integration/proxy-goodbye.test.ts, proxy-lifecycle.test.ts).
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HOLD_MS, stopSignals } from './stop-signals.js';

function target() {
  const t = Object.assign(new EventEmitter(), { exits: [] as number[] });
  return Object.assign(t, { exit: (code: number) => { t.exits.push(code); } });
}
const log = pino({ level: 'silent' });
const tick = () => new Promise((r) => setImmediate(r));

afterEach(() => { vi.useRealTimers(); });

describe('stopSignals', () => {
  it('a SIGTERM once running stops cleanly and exits 0; a second one does not stop twice', async () => {
    const t = target();
    const stops: string[] = [];
    stopSignals(log, t)(async (sig) => { stops.push(sig); });
    t.emit('SIGTERM');
    t.emit('SIGINT');
    await tick();
    expect(stops).toEqual(['SIGTERM']);
    expect(t.exits).toEqual([0]);
  });

  it('a SIGTERM while starting is held, then stops the proxy as soon as it runs', async () => {
    const t = target();
    const stops: string[] = [];
    const ready = stopSignals(log, t);
    t.emit('SIGTERM');
    await tick();
    expect(t.exits).toEqual([]); // not killed mid-start (the default action would have)
    ready(async (sig) => { stops.push(sig); });
    await tick();
    expect(stops).toEqual(['SIGTERM']);
    expect(t.exits).toEqual([0]);
  });

  it('a start that does not finish within HOLD_MS of the signal: it exits 1 then, without waiting for ever', () => {
    vi.useFakeTimers();
    const t = target();
    stopSignals(log, t);
    t.emit('SIGTERM');
    vi.advanceTimersByTime(HOLD_MS - 1);
    expect(t.exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(t.exits).toEqual([1]);
    // A start that finishes in time is not cut short.
    const t2 = target();
    const ready2 = stopSignals(log, t2);
    t2.emit('SIGTERM');
    ready2(async () => {});
    vi.advanceTimersByTime(HOLD_MS * 2);
    expect(t2.exits).not.toContain(1);
  });

  it('a second signal while still starting ends it at once (exit 1), so a hung start stays stoppable', async () => {
    const t = target();
    stopSignals(log, t);
    t.emit('SIGINT');
    t.emit('SIGTERM');
    expect(t.exits).toEqual([1]);
  });

  it('a stop that fails exits 1', async () => {
    const t = target();
    stopSignals(log, t)(async () => { throw new Error('close failed'); });
    t.emit('SIGTERM');
    await tick();
    expect(t.exits).toEqual([1]);
  });
});
