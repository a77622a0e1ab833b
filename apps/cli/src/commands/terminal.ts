// The local half of `dream shell` / `dream run`: the api runs the program in a pseudo-terminal and
// bridges it to a WebSocket. Here: raw mode on our TTY (so Ctrl-C, arrows and tab go to the remote
// side as bytes), stdin → binary frames, SIGWINCH → {"type":"resize"}, binary frames → stdout, and
// {"type":"exit","code"} → our exit code.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { openSocket } from './socket.js';

/** Pure: a server text frame → the remote exit code, or null if it is not the exit message. */
export function exitCodeOf(text: string): number | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; code?: unknown };
    if (m.type === 'exit' && Number.isInteger(m.code)) return m.code as number;
  } catch { /* not JSON */ }
  return null;
}

export interface TerminalTarget {
  app: string;
  path: string;
  query: URLSearchParams;
  /** Next step when the api refuses (no replica, no release…). */
  hint: string;
  /** What to say when the connection drops before the program ended. */
  lost: CliError;
}

/** Runs one terminal session; resolves with the remote program's exit code. */
export async function terminalSession(ctx: Context, t: TerminalTarget): Promise<number> {
  const size = ctx.io.tty?.size() ?? { cols: 80, rows: 24 };
  t.query.set('cols', String(size.cols));
  t.query.set('rows', String(size.rows));
  const socket = await openSocket(ctx, t.app, t.path, t.query, t.hint);
  const ws = socket.ws;
  const stdin = ctx.io.stdin;
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const decoder = new TextDecoder('utf-8'); // streaming: a character split across frames stays whole
  let code: number | null = null;

  const onData = (d: Buffer | string) => { if (ws.readyState === ws.OPEN) ws.send(typeof d === 'string' ? Buffer.from(d) : d, { binary: true }); };
  // Piped input ran out: Ctrl-D, which a terminal turns into end-of-file for the remote program.
  const onEnd = () => onData(Buffer.from([4]));
  const stopResize = ctx.io.tty?.onResize(() => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'resize', ...ctx.io.tty!.size() }));
  });
  if (raw) stdin.setRawMode!(true);
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  try {
    socket.onMessage((data, binary) => {
      if (binary) { ctx.io.stdout(decoder.decode(data, { stream: true })); return; }
      const c = exitCodeOf(data.toString('utf8'));
      if (c !== null) code = c;
    });
    await socket.closed;
  } finally {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    if (raw) stdin.setRawMode!(false);
    stopResize?.();
    const rest = decoder.decode();
    if (rest) ctx.io.stdout(rest);
  }
  if (code === null) throw t.lost;
  return code;
}
