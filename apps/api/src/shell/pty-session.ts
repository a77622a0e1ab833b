// Bridges a WebSocket to a program in a pseudo-terminal (node-pty, argv only — no shell strings).
// Wire protocol: binary frames are terminal bytes both ways; text frames are JSON control messages —
// client → server {"type":"resize","cols":100,"rows":40}; server → client {"type":"exit","code":3}.
import { spawn } from 'node-pty';
import type { WebSocket } from 'ws';
import { heartbeat } from '../logs/heartbeat.js';

const INPUT_HOLD_MS = 1500;

export interface PtyOptions {
  cols: number;
  rows: number;
  idleMs: number;
  pingMs: number;
  /** Output bytes queued on the socket before the program is paused (flow control). */
  queueBytes: number;
  env: Record<string, string>;
}

/** Parses a control frame; null when it is not one we know. */
export function parseControl(text: string): { type: 'resize'; cols: number; rows: number } | null {
  try {
    const m = JSON.parse(text) as { type?: unknown; cols?: unknown; rows?: unknown };
    const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 1000;
    if (m.type === 'resize' && ok(m.cols) && ok(m.rows)) return { type: 'resize', cols: m.cols, rows: m.rows };
  } catch { /* not JSON */ }
  return null;
}

/** Runs argv in a pty attached to `ws`; resolves with the exit code (null if the client left first). */
export function attachPty(ws: WebSocket, argv: string[], o: PtyOptions): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { name: 'xterm-256color', cols: o.cols, rows: o.rows, env: o.env, encoding: null } as Parameters<typeof spawn>[2]);
    let touchIdle: () => void = () => {};
    const stopBeat = heartbeat(ws, o.pingMs, o.idleMs, (t) => { touchIdle = t; });
    let paused = false;
    let settled = false;
    const done = (code: number | null) => {
      if (settled) return;
      settled = true;
      stopBeat();
      resolve(code);
    };
    // Keystrokes sent before the remote side is attached are lost: the docker CLI switches the
    // terminal to raw mode after starting, which flushes pending input. So input waits for the
    // first output (the prompt) or INPUT_HOLD_MS, whichever comes first.
    let held: Buffer[] | null = [];
    const release = () => { if (!held) return; const h = held; held = null; for (const d of h) p.write(d); };
    const holdTimer = setTimeout(release, INPUT_HOLD_MS);
    p.onData((data: string | Buffer) => {
      touchIdle();
      if (held) { clearTimeout(holdTimer); setTimeout(release, 20); }
      ws.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
      if (!paused && ws.bufferedAmount > o.queueBytes) {
        paused = true;
        p.pause();
        const wait = setInterval(() => {
          if (ws.readyState !== ws.OPEN || ws.bufferedAmount < o.queueBytes / 2) { clearInterval(wait); paused = false; p.resume(); }
        }, 10);
      }
    });
    p.onExit(({ exitCode }) => {
      clearTimeout(holdTimer);
      // Let the last output reach the socket before the exit message.
      setTimeout(() => {
        if (ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ type: 'exit', code: exitCode }));
          ws.close(1000, 'exited');
        }
        done(exitCode);
      }, 50);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) { touchIdle(); if (held) held.push(data); else p.write(data); return; }
      const c = parseControl(data.toString('utf8'));
      if (c?.type === 'resize') p.resize(c.cols, c.rows);
    });
    ws.on('close', () => {
      if (settled) return;
      // The user went away: hang up the terminal (SIGHUP reaches the remote side through docker).
      try { p.kill('SIGHUP'); } catch { /* already gone */ }
      done(null);
    });
  });
}
