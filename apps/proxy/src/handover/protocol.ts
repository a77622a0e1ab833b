// The handover wire format: one JSON line per message, validated; anything else drops the peer.
import type net from 'node:net';

export type HandoverOp = 'release' | 'released' | 'listening';
const OPS: readonly HandoverOp[] = ['release', 'released', 'listening'];
const MAX_LINE = 256;

/** One validated message, or null for anything else (wrong version, unknown op, extra keys, not JSON). */
export function parseMessage(line: string): HandoverOp | null {
  if (line.length > MAX_LINE) return null;
  let m: unknown;
  try { m = JSON.parse(line); } catch { return null; }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
  const o = m as Record<string, unknown>;
  if (Object.keys(o).length !== 2 || o.v !== 1 || !OPS.includes(o.op as HandoverOp)) return null;
  return o.op as HandoverOp;
}

export const encode = (op: HandoverOp) => `${JSON.stringify({ v: 1, op })}\n`;

/** Calls `onMessage` per valid line; destroys the peer on an invalid or oversized one. */
export function readMessages(sock: net.Socket, onMessage: (op: HandoverOp) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const op = parseMessage(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (!op) { sock.destroy(); return; }
      onMessage(op);
    }
    if (buf.length > MAX_LINE) sock.destroy();
  });
  sock.on('error', () => sock.destroy());
}

