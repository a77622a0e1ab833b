import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { ProxyContext } from './context.js';
import { decide } from './decide.js';
import { FirstTable } from './routes/first-table.js';

/** Counts the waits started: the fast path hands a request to node:http, which waits itself. */
class CountingFirstTable extends FirstTable {
  waits = 0;
  override wait(): Promise<boolean> { this.waits++; return super.wait(); }
}

function setup() {
  const routes = new EventEmitter();
  const firstTable = new CountingFirstTable(routes, 10_000);
  const ctx = { table: () => ({ get: () => undefined, version: 0 }), firstTable } as unknown as ProxyContext;
  return { routes, firstTable, ctx };
}

describe('decide before the first table', () => {
  it('starts no wait until the caller asks for the later decision (the fast path never does)', async () => {
    const { routes, firstTable, ctx } = setup();
    const d = decide(ctx, 'GET', '/', 'web.dream', 'https', {}, 'r1');
    expect(d.later).toBeTypeOf('function');
    expect(firstTable.waits).toBe(0);
    const later = d.later!();
    expect(firstTable.waits).toBe(1);
    routes.emit('applied');
    // The table that came has no such host: now a plain 404, decided once.
    expect((await later).page?.status).toBe(404);
  });

  it('answers the health check at once, without waiting', () => {
    const { firstTable, ctx } = setup();
    expect(decide(ctx, 'GET', '/__dream/healthz', 'web.dream', 'https', {}, 'r2').page?.status).toBe(200);
    expect(firstTable.waits).toBe(0);
  });
});
