// The real `dream` binary against a server that sends everything at once: the 101 answer to the
// WebSocket upgrade, the frames and the close in one TCP write, so the CLI reads them in one go —
// what a busy api does when a short answer (`dream logs --tail 5`, a `dream run` that ends at once)
// is ready as soon as the socket opens. The CLI listened for messages only a few ticks after the
// socket opened; frames that came with the upgrade were dropped: `dream logs` printed nothing and
// exited 0 (seen twice in CI in test/e2e/cli-logs-shell.test.ts), `dream run` said the connection
// was lost though the command had finished.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dream.js', import.meta.url));
const TOKEN = 'dn_early_frames';

/** An unmasked server frame (RFC 6455 5.2): FIN + opcode, a 7- or 16-bit length, the payload. */
function frame(opcode: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}
const text = (s: string) => frame(0x1, Buffer.from(s));
const binary = (s: string) => frame(0x2, Buffer.from(s));
const close = (code: number) => { const b = Buffer.alloc(2); b.writeUInt16BE(code); return frame(0x8, b); };

const line = (n: number) => JSON.stringify({ cursor: n, timestamp: `2026-12-07T10:00:0${n}.000Z`, source: 'runtime', replica: 1, stream: 'stdout', line: `early ${n}` });

let server: http.Server;
let url: string;
let home: string;
const seen: string[] = [];

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'dream-cli-early-'));
  server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket) => {
    seen.push(req.url ?? '');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) { socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n'); return; }
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    const frames = req.url!.includes('/logs')
      ? [1, 2, 3, 4, 5].map((n) => text(line(n)))
      : [binary('run output\n'), text(JSON.stringify({ type: 'exit', code: 3 }))];
    // One write: the client gets the upgrade answer and every frame in the same read.
    socket.write(Buffer.concat([
      Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`),
      ...frames, close(1000),
    ]));
    socket.on('data', () => {}); // the client's close frame
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 200);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

function dream(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(BIN, args, {
      env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, XDG_CONFIG_HOME: path.join(home, 'cfg'), DREAM_URL: url, DREAM_TOKEN: TOKEN },
      timeout: 20_000,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
    child.stdin!.end('');
  });
}

describe('the CLI reads frames that arrive with the WebSocket upgrade', () => {
  it('dream logs --tail 5 prints all 5 lines and exits 0 (3 times)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await dream(['logs', 'web', '--tail', '5']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => l.replace(/^\S+ /, ''))).toEqual([1, 2, 3, 4, 5].map((n) => `web[1] early ${n}`));
    }
    expect(seen.at(-1)).toBe('/v1/apps/web/logs?tail=5');
  }, 60_000);

  it('dream run prints the output and exits with the command\'s code (3 times)', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await dream(['run', 'web', '--', 'sh', '-c', 'exit 3']);
      expect(r.stdout).toBe('run output\n');
      expect(r.code, r.stderr).toBe(3);
    }
  }, 60_000);
});
