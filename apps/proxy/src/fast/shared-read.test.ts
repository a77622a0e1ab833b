// A TLS socket switched to reading into a shared buffer (shared-read.ts): what it had buffered
// comes back first, every later read lands in the buffer through the callback, none as 'data'.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIntoShared } from './shared-read.js';

let dir = '';
let pem: { cert: Buffer; key: Buffer };
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-read-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=localhost'], { cwd: dir, stdio: 'ignore' });
  pem = { cert: fs.readFileSync(path.join(dir, 'c.pem')), key: fs.readFileSync(path.join(dir, 'k.pem')) };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const until = async (ok: () => boolean) => { for (let i = 0; i < 400 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); };

describe('readIntoShared', () => {
  it('hands back what the socket buffered, then delivers each read in the shared buffer and emits no data event', async () => {
    const shared = Buffer.alloc(64 * 1024);
    const reads: string[] = [];
    const seen = { pending: '' as string | null, sameBuffer: true, dataEvents: 0, switched: false };
    const server = tls.createServer(pem, (s) => {
      s.on('data', () => { if (seen.switched) seen.dataEvents++; });
      s.pause(); // the first request waits in the socket's own buffer, as one sent with the Finished can
      void until(() => s.readableLength > 0).then(() => {
        const pending = readIntoShared(s, shared, (n, buf) => {
          seen.sameBuffer &&= buf === shared;
          reads.push(Buffer.from(buf.subarray(0, n)).toString());
          s.write(`got ${n}\n`);
          return true;
        });
        seen.switched = pending !== false; // (reading the pending bytes off emitted their 'data')
        seen.pending = pending ? pending.toString() : null;
        expect(readIntoShared(s, shared, () => true)).toBe(false); // switched once only
        s.write('switched\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    let answers = '';
    client.on('data', (b) => { answers += b.toString(); });
    client.write('first');
    await until(() => answers.includes('switched'));
    client.write('second');
    await until(() => answers.includes('got 6'));
    client.write('third!!');
    await until(() => answers.includes('got 7'));
    client.destroy();
    await new Promise((r) => server.close(r));

    expect(seen.switched).toBe(true);
    expect(seen.pending).toBe('first');
    expect(reads).toEqual(['second', 'third!!']);
    expect(seen.sameBuffer).toBe(true);
    expect(seen.dataEvents).toBe(0);
  });
});
