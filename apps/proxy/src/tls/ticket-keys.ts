// TLS session ticket keys: one set for every worker, rotated. A client that comes back offers the
// ticket of its last session and skips the full handshake (no certificate signature; over TLS 1.2
// also no key exchange and one round trip less) — if the process that accepts it can open the
// ticket. Node gives each server its own random keys: with 2 workers 39 of 80 reconnections landed
// on the other worker and got a full handshake, and a SIGHUP reload (new workers) broke every
// session. So the cluster primary makes the keys and hands them to each worker, which asks for them
// once it serves (a message sent at fork time could arrive before the worker listens for it). They
// live in memory only, never on disk or in the environment (a diagnostic report prints the
// environment). Rotated every 12 h, as Caddy does, so a key set stolen from memory opens at most
// the last 12 h of tickets; tickets are valid 5 minutes (node's sessionTimeout), so a rotation
// costs a few clients one full handshake. The server's keys cover every name: OpenSSL seals and
// opens tickets with the context the connection started on, not the one the SNI callback chose.
import { randomBytes } from 'node:crypto';

export const TICKET_KEYS_ROTATE_MS = 12 * 3_600_000;

const MSG = 'dream:ticket-keys';
type Ask = { [MSG]: 'ask' };
type Keys = { [MSG]: 'keys'; keys: string };

/** What node's `setTicketKeys` takes: 48 bytes (name, HMAC secret, AES key). */
export const newTicketKeys = (): Buffer => randomBytes(48);

/** A TLS server (tls.Server, http2's secure server). */
export interface TicketServer { setTicketKeys(keys: Buffer): void }

/** The IPC side of a cluster worker (node:cluster's Worker) as the primary sees it. */
export interface WorkerChannel { send(m: unknown, cb: (err: Error | null) => void): boolean }

/** The primary's view of node:cluster: a worker's messages, and the workers alive now. */
export interface ClusterChannel {
  on(event: 'message', fn: (w: WorkerChannel, m: unknown) => void): unknown;
  workers?: Record<string, WorkerChannel | undefined>;
}

/** The process's own IPC side in a worker (node's `process`). */
export interface PrimaryChannel {
  on(event: 'message', fn: (m: unknown) => void): unknown;
  off(event: 'message', fn: (m: unknown) => void): unknown;
  send?(m: unknown, cb: (err: Error | null) => void): boolean;
}

// A message to a worker that just died, or to a primary that is gone, fails; nothing to do then.
const ignore = (): void => {};

/**
 * Primary: answers each worker's ask with the current keys; every `rotateMs` makes new ones and
 * sends them to all workers. stop() ends the rotation.
 */
export function shareTicketKeys(c: ClusterChannel, rotateMs = TICKET_KEYS_ROTATE_MS): { stop(): void } {
  let keys = newTicketKeys();
  const message = (): Keys => ({ [MSG]: 'keys', keys: keys.toString('base64') });
  c.on('message', (w, m) => {
    if ((m as Partial<Ask> | null)?.[MSG] === 'ask') w.send(message(), ignore);
  });
  const timer = setInterval(() => {
    keys = newTicketKeys();
    for (const w of Object.values(c.workers ?? {})) w?.send(message(), ignore);
  }, rotateMs).unref();
  return { stop: () => clearInterval(timer) };
}

/** Worker: asks the primary for the keys and puts each set it sends (now and at every rotation) on `servers`. */
export function followPrimaryTicketKeys(p: PrimaryChannel, servers: TicketServer[]): { stop(): void } {
  const onMessage = (m: unknown) => {
    const k = m as Partial<Keys> | null;
    if (k?.[MSG] !== 'keys' || typeof k.keys !== 'string') return;
    const keys = Buffer.from(k.keys, 'base64');
    if (keys.length !== 48) return;
    for (const s of servers) s.setTicketKeys(keys);
  };
  p.on('message', onMessage);
  p.send?.({ [MSG]: 'ask' } satisfies Ask, ignore);
  return { stop: () => p.off('message', onMessage) };
}

/** A single process: new keys on `servers` every `rotateMs` (node keeps its first ones for good). */
export function rotateTicketKeys(servers: TicketServer[], rotateMs = TICKET_KEYS_ROTATE_MS): { stop(): void } {
  const timer = setInterval(() => {
    const keys = newTicketKeys();
    for (const s of servers) s.setTicketKeys(keys);
  }, rotateMs).unref();
  return { stop: () => clearInterval(timer) };
}
