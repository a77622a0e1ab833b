// The goodbye of a stopping proxy (POST /v1/internal/routes/leave) against a real HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiCalls } from './api-calls.js';

let server: http.Server | undefined;
afterEach(async () => { await new Promise((r) => (server ? server.close(r) : r(undefined))); server = undefined; });

/** A log that keeps its lines' messages. */
function memoryLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s).msg as string); } });
  return { log, lines };
}

describe('goodbye (routes/leave)', () => {
  it('is said once more when the connection drops before an answer (a kept-alive one the api closed meanwhile)', async () => {
    let seen = 0;
    server = http.createServer((req, res) => {
      seen++;
      if (seen === 1) { req.socket.destroy(); return; } // ECONNRESET / socket hang up, as a stale socket gives
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { log, lines } = memoryLog();
    const calls = new ApiCalls({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'int_t', log }, 'p1', new AbortController().signal);
    await calls.leave();
    expect(seen).toBe(2);
    expect(lines).toContain('said goodbye to the api: route switches no longer wait for this proxy');
    await calls.leave(); // once only
    expect(seen).toBe(2);
  });

  it('gives up, saying so, when the api does not answer within 2 s', async () => {
    server = http.createServer(() => { /* never answers */ });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { log, lines } = memoryLog();
    const calls = new ApiCalls({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 'int_t', log }, 'p1', new AbortController().signal);
    const t0 = Date.now();
    await calls.leave();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(lines.some((l) => l.startsWith('could not say goodbye'))).toBe(true);
    server.closeAllConnections();
  });
});
