// Shared by the tls unit tests: temp dirs that are removed, and a real TLS handshake against a
// manager's SNI callback (what a browser would get).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterEach } from 'vitest';
import type { CertificateSource } from './types.js';

const dirs: string[] = [];
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const c of closers.splice(0)) await c(); for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
export const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-tls-')); dirs.push(d); return d; };
export const onCleanup = (c: () => Promise<void> | void) => { closers.push(c); };

export interface Handshake { authorized: boolean; error?: string; fingerprint?: string; subject?: string }

export async function handshake(src: Pick<CertificateSource, 'secureContext'>, servername: string, ca: string): Promise<Handshake> {
  const server = tls.createServer({ SNICallback: (name, cb) => cb(null, src.secureContext(name)) }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as { port: number }).port;
  return new Promise((resolve) => {
    // Identity is checked by the caller (odd SNI spellings would fail Node's own host check).
    const sock = tls.connect({ host: '127.0.0.1', port, servername, ca, checkServerIdentity: () => undefined }, () => {
      const peer = sock.getPeerCertificate();
      resolve({ authorized: sock.authorized, fingerprint: peer.fingerprint256, subject: String(peer.subject?.CN) });
      sock.end();
    });
    sock.on('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}
