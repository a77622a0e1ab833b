// WebSocket helpers for the logs/shell e2e tests: connect with the token, keep every message.
import WebSocket from 'ws';
import type { Platform } from './platform.js';

export interface Client { ws: WebSocket; msgs: Array<Record<string, any>>; raw: Buffer[]; closed: Promise<number> }

export function open(p: Platform, pathAndQuery: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(p.apiUrl.replace('http', 'ws') + pathAndQuery, { headers: { authorization: `Bearer ${p.token}` } });
    const c: Client = { ws, msgs: [], raw: [], closed: new Promise((r) => ws.on('close', (code) => r(code))) };
    ws.on('message', (d: Buffer, binary) => { if (binary) c.raw.push(d); else c.msgs.push(JSON.parse(String(d))); });
    ws.on('open', () => resolve(c));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

export async function until<T>(fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
