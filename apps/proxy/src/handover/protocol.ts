// The handover wire format: one JSON line per message, validated; anything else drops the peer.
// "passed" alone carries a field: the ports of the listening sockets attached to it (fdpass.ts), in
// the order of the descriptors.
import type net from 'node:net';

export type HandoverOp = 'release' | 'released' | 'listening' | 'pass' | 'passed';
export interface HandoverMessage { op: HandoverOp; ports?: number[] }
const OPS: readonly HandoverOp[] = ['release', 'released', 'listening', 'pass', 'passed'];
const MAX_LINE = 256;
/** At most this many sockets in one "passed" (plain HTTP and HTTPS today). */
export const MAX_PASSED = 4;

const isPort = (p: unknown) => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;

/** One validated message, or null for anything else (wrong version, unknown op, extra keys, not JSON). */
export function parseMessage(line: string): HandoverMessage | null {
  if (line.length > MAX_LINE) return null;
  let m: unknown;
  try { m = JSON.parse(line); } catch { return null; }
  if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
  const o = m as Record<string, unknown>;
  if (o.v !== 1 || !OPS.includes(o.op as HandoverOp)) return null;
  const op = o.op as HandoverOp;
  if (op !== 'passed') return Object.keys(o).length === 2 ? { op } : null;
  const ports = o.ports;
  if (Object.keys(o).length !== 3 || !Array.isArray(ports) || ports.length < 1 || ports.length > MAX_PASSED || !ports.every(isPort)) return null;
  return { op, ports: ports as number[] };
}

export const encode = (op: HandoverOp, ports?: number[]) => `${JSON.stringify(ports ? { v: 1, op, ports } : { v: 1, op })}\n`;

/** Calls `onMessage` per valid line; destroys the peer on an invalid or oversized one. */
export function readMessages(sock: net.Socket, onMessage: (op: HandoverOp, msg: HandoverMessage) => void): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const msg = parseMessage(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (!msg) { sock.destroy(); return; }
      onMessage(msg.op, msg);
    }
    if (buf.length > MAX_LINE) sock.destroy();
  });
  sock.on('error', () => sock.destroy());
}
