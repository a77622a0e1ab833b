// SIGTERM/SIGINT stop the proxy cleanly — also one that comes while it is still starting. The
// cluster primary passes SIGTERM on to its workers at any moment; a worker that had polled and acked
// the api's routes but had not yet set its handlers died of the signal's default action, without
// saying goodbye, and the next deploy waited the drain timeout + 5 s for its ack (seen in CI:
// test/integration/proxy-goodbye.test.ts). Now the handlers are set first and a signal that comes
// before the proxy runs is held until it does — for at most HOLD_MS, and a second signal ends it at
// once: a start that hangs (a replacement a reload gives up on) must still stop when told to.
import type { Logger } from 'pino';

/** How long a stop asked for while starting waits for the start to finish. */
export const HOLD_MS = 2000;

export type Stop = (signal: NodeJS.Signals) => Promise<void>;

/** What this needs of `process` (a test passes its own). */
export interface SignalTarget {
  on(signal: NodeJS.Signals, fn: () => void): unknown;
  exit(code: number): void;
}

/** Listens now; returns `ready(stop)`, to call once the proxy runs (a held signal stops it then). */
export function stopSignals(log: Logger, target: SignalTarget = process): (stop: Stop) => void {
  let stop: Stop | null = null;
  let held: NodeJS.Signals | null = null;
  let holding: ReturnType<typeof setTimeout> | undefined;
  let stopping = false;
  const giveUp = (why: string) => { log.warn({ signal: held }, why); target.exit(1); };
  const run = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: sig }, 'stopping');
    stop!(sig).then(() => target.exit(0), (e) => { log.error({ err: e }, 'close failed'); target.exit(1); });
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    target.on(sig, () => {
      if (stop) return run(sig);
      if (held) { clearTimeout(holding); return giveUp('stopping at once: a second signal before the start finished'); }
      held = sig;
      log.info({ signal: sig }, 'stopping once the start finished');
      holding = setTimeout(() => giveUp(`stopping at once: the start did not finish within ${HOLD_MS} ms of the signal`), HOLD_MS);
    });
  }
  return (s) => {
    stop = s;
    clearTimeout(holding);
    if (held) run(held);
  };
}
