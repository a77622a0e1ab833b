// Shell and one-off runs through the real platform: a pty on the api runs `docker exec -it` /
// `docker start -ai`; the client sends keystrokes, resizes, and gets the exit code.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRepo, push, startPlatform, type Platform } from './platform.js';
import { open, until, type Client } from './logs-ws.js';

let p: Platform;
beforeAll(async () => {
  p = await startPlatform({ DREAM_LOG_POLL_MS: '200' });
  expect((await p.request('POST', '/v1/apps', { name: 'shelly' })).status).toBe(201);
  expect((await push(p, await gitRepo('dockerfile-app'), 'shelly')).code).toBe(0);
}, 180_000);
afterAll(async () => { await p?.request('DELETE', '/v1/apps/shelly'); await p?.stop(); }, 60_000);

const text = (c: Client) => Buffer.concat(c.raw).toString('utf8');
const type = (c: Client, s: string) => c.ws.send(Buffer.from(s), { binary: true });

describe('dream shell', () => {
  it('echo hi → hi; resize 100x40 → stty size says 40 100; exit 3 → exit code 3; audited', async () => {
    const c = await open(p, '/v1/apps/shelly/shell?cols=80&rows=24');
    type(c, 'echo h""i\r');
    await until(() => /\r\nhi\r\n/.test(text(c))).catch((e) => { throw new Error(`${e.message}; screen: ${JSON.stringify(text(c))}; msgs: ${JSON.stringify(c.msgs)}`); });
    c.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 40 }));
    // The resize travels api → pty → docker CLI (SIGWINCH) → engine; on a busy machine that can
    // take a moment, so ask again until the new size shows (bounded by the test timeout).
    for (let i = 0; i < 20 && !/40 100/.test(text(c)); i++) {
      type(c, 'stty size\r');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(text(c)).toMatch(/40 100/);
    type(c, 'exit 3\r');
    const exit = await until(() => c.msgs.find((m) => m.type === 'exit'));
    expect(exit.code).toBe(3);
    expect(await c.closed).toBe(1000);
    await new Promise((r) => setTimeout(r, 300));
    const db = new Database(path.join(p.dataDir, 'dream.db'), { readonly: true });
    const row = db.prepare("SELECT * FROM shell_sessions WHERE app = 'shelly' AND kind = 'shell' ORDER BY id DESC").get() as Record<string, unknown>;
    db.close();
    expect(row).toMatchObject({ exit_code: 3, command: '["/bin/sh"]' });
    expect(row.token_id).toMatch(/^tok_/);
    expect(row.ended_at).toBeTruthy();
  }, 60_000);

  it('Ctrl-C reaches the remote process', async () => {
    const c = await open(p, '/v1/apps/shelly/shell');
    type(c, 'sleep 30; echo after\r');
    await new Promise((r) => setTimeout(r, 500));
    type(c, '\x03');
    // The terminal flushes typed-ahead input on an interrupt: type the next line after it.
    await new Promise((r) => setTimeout(r, 300));
    type(c, 'echo still-here\r');
    await until(() => /\r\nstill-here\r\n/.test(text(c)), 10_000);
    expect(text(c)).not.toMatch(/\r\nafter\r\n/);
    c.ws.close();
  }, 30_000);

  it('dream run: a one-off container of the current release, attached, exit code back, removed afterwards', async () => {
    const c = await open(p, '/v1/apps/shelly/run?cmd=sh&cmd=-c&cmd=echo%20port%3D%24PORT%3B%20exit%207');
    const exit = await until(() => c.msgs.find((m) => m.type === 'exit'));
    expect(text(c)).toContain('port=5000');
    expect(exit.code).toBe(7);
    await new Promise((r) => setTimeout(r, 500));
    const left = execFileSync('docker', ['ps', '-aq', '--filter', 'label=dev.dreamnet.run=true', '--filter', 'label=dev.dreamnet.app=shelly']).toString().trim();
    expect(left).toBe('');
  }, 60_000);

  it('dream run --detach: prints an id whose logs can be followed', async () => {
    const r = await p.request('POST', '/v1/apps/shelly/runs', { cmd: ['sh', '-c', 'for i in 1 2 3; do echo detached $i; done'] });
    expect(r.status).toBe(202);
    const c = await open(p, `/v1/apps/shelly/logs?follow=1&source=run&replica=${r.body.id}`);
    await until(() => c.msgs.filter((m) => /^detached \d$/.test(m.line)).length === 3, 20_000);
    expect(c.msgs.map((m) => m.line)).toEqual(['detached 1', 'detached 2', 'detached 3']);
    c.ws.close();
  }, 60_000);
});
