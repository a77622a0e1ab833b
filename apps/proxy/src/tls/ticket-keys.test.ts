// The ticket-key messages between the cluster primary and its workers, and rotation on the clock.
// Real processes and real handshakes: test/integration/proxy-tls-resumption.test.ts.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { followPrimaryTicketKeys, rotateTicketKeys, shareTicketKeys, TICKET_KEYS_ROTATE_MS, type WorkerChannel } from './ticket-keys.js';

/** A worker as the primary sees it: what was sent to it. */
function worker(): WorkerChannel & { got: unknown[] } {
  const got: unknown[] = [];
  return { got, send: (m, cb) => { got.push(m); cb(null); return true; } };
}
const keysIn = (m: unknown) => Buffer.from((m as { keys: string }).keys, 'base64');
const server = () => { const set: Buffer[] = []; return { set, setTicketKeys: (k: Buffer) => { set.push(k); } }; };

beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('shareTicketKeys (the primary)', () => {
  it('answers every worker that asks with the same 48 bytes, and nothing else it hears', () => {
    const c = Object.assign(new EventEmitter(), { workers: {} as Record<string, WorkerChannel> });
    const share = shareTicketKeys(c);
    const [a, b] = [worker(), worker()];
    c.emit('message', a, { 'dream:ticket-keys': 'ask' });
    c.emit('message', b, { 'dream:ticket-keys': 'ask' });
    c.emit('message', b, { 'dream:worker': 'listening', ports: [443] });
    c.emit('message', b, null);
    expect(a.got).toHaveLength(1);
    expect(b.got).toHaveLength(1);
    expect(keysIn(a.got[0])).toHaveLength(48);
    expect(keysIn(a.got[0])).toEqual(keysIn(b.got[0]));
    share.stop();
  });

  it('rotates every 12 h: new keys to every live worker, and to the ones that ask after', () => {
    const [a, b] = [worker(), worker()];
    const c = Object.assign(new EventEmitter(), { workers: { 1: a, 2: b } as Record<string, WorkerChannel | undefined> });
    const share = shareTicketKeys(c);
    c.emit('message', a, { 'dream:ticket-keys': 'ask' });
    const first = keysIn(a.got[0]);
    vi.advanceTimersByTime(TICKET_KEYS_ROTATE_MS - 1);
    expect(a.got).toHaveLength(1);
    expect(b.got).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(a.got).toHaveLength(2);
    expect(b.got).toHaveLength(1);
    const second = keysIn(a.got[1]);
    expect(second).not.toEqual(first);
    expect(keysIn(b.got[0])).toEqual(second);
    const late = worker();
    c.emit('message', late, { 'dream:ticket-keys': 'ask' });
    expect(keysIn(late.got[0])).toEqual(second);
    share.stop();
    vi.advanceTimersByTime(TICKET_KEYS_ROTATE_MS * 3);
    expect(a.got).toHaveLength(2);
  });

  it('a worker that died meanwhile costs nothing: the failed send is swallowed', () => {
    const dead: WorkerChannel = { send: (_m, cb) => { cb(new Error('channel closed')); return false; } };
    const c = Object.assign(new EventEmitter(), { workers: { 1: dead } });
    const share = shareTicketKeys(c);
    expect(() => c.emit('message', dead, { 'dream:ticket-keys': 'ask' })).not.toThrow();
    expect(() => vi.advanceTimersByTime(TICKET_KEYS_ROTATE_MS)).not.toThrow();
    share.stop();
  });
});

describe('followPrimaryTicketKeys (a worker)', () => {
  it('asks once, then puts every key set the primary sends on each TLS server until stopped; ignores anything malformed', () => {
    const sent: unknown[] = [];
    const p = Object.assign(new EventEmitter(), { send: (m: unknown, cb: (e: Error | null) => void) => { sent.push(m); cb(null); return true; } });
    const [s1, s2] = [server(), server()];
    const f = followPrimaryTicketKeys(p, [s1, s2]);
    expect(sent).toEqual([{ 'dream:ticket-keys': 'ask' }]);
    const k1 = Buffer.alloc(48, 1);
    const k2 = Buffer.alloc(48, 2);
    p.emit('message', { 'dream:ticket-keys': 'keys', keys: k1.toString('base64') });
    p.emit('message', { 'dream:ticket-keys': 'keys', keys: Buffer.alloc(47).toString('base64') });
    p.emit('message', { 'dream:ticket-keys': 'keys', keys: 42 });
    p.emit('message', { 'dream:worker': 'release' });
    p.emit('message', { 'dream:ticket-keys': 'keys', keys: k2.toString('base64') });
    expect(s1.set).toEqual([k1, k2]);
    expect(s2.set).toEqual([k1, k2]);
    f.stop();
    p.emit('message', { 'dream:ticket-keys': 'keys', keys: k1.toString('base64') });
    expect(s1.set).toEqual([k1, k2]);
  });
});

describe('rotateTicketKeys (a single process)', () => {
  it('puts new 48-byte keys on every server every 12 h until stopped', () => {
    const [s1, s2] = [server(), server()];
    const r = rotateTicketKeys([s1, s2]);
    vi.advanceTimersByTime(TICKET_KEYS_ROTATE_MS * 2);
    expect(s1.set).toHaveLength(2);
    expect(s1.set[0]).toHaveLength(48);
    expect(s1.set[1]).not.toEqual(s1.set[0]);
    expect(s2.set).toEqual(s1.set);
    r.stop();
    vi.advanceTimersByTime(TICKET_KEYS_ROTATE_MS * 2);
    expect(s1.set).toHaveLength(2);
  });
});
