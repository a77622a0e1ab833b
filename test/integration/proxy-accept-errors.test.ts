// startProxy's listeners when the kernel refuses an accept: node emits that as the server's
// 'error', and with no listener it threw, ending the process (every connection and request with
// it). Now the proxy keeps serving, plain and HTTPS, and says so once (ACCEPT_FAILED; EMFILE/ENFILE
// are FD_LIMIT_REACHED). The kernel cannot be made to refuse an accept here (ENOBUFS/ENOMEM need
// memory pressure, EPERM a security module), so the error is emitted on the servers startProxy
// returns, as node's net.js does it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '@dreamnet/core';
import { startProxy, type ProxyHandle } from '../../apps/proxy/src/index.js';
import { NO_CERTIFICATES, type CertificateSource } from '../../apps/proxy/src/tls/types.js';
import { makeTestCerts, request, startFakeApi, startUpstream, tlsRequest } from './proxy-helpers.js';

const TOKEN = 'int_test-token';
const HOST = 'web.dream';
let dir: string;
let ca: Buffer;
let api: Awaited<ReturnType<typeof startFakeApi>>;
let app: Awaited<ReturnType<typeof startUpstream>>;
let proxy: ProxyHandle;
const lines: Array<Record<string, unknown>> = [];

/** The error node's net.Server emits when accept() fails with `code` (net.js onconnection). */
const acceptError = (code: 'ENOBUFS' | 'ENOMEM' | 'EMFILE') =>
  Object.assign(new Error(`accept ${code}`), { errno: -os.constants.errno[code], code, syscall: 'accept' });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-accept-errors-'));
  const m = await makeTestCerts(dir, [HOST]);
  ca = m.ca;
  const sc = tls.createSecureContext({ key: m.key, cert: m.cert });
  const certs: CertificateSource = { ...NO_CERTIFICATES, secureContext: (n) => (n === HOST ? sc : undefined), hasCertificate: () => false };
  app = await startUpstream('A');
  api = await startFakeApi(TOKEN, [{ app: 'web', hosts: [HOST], endpoints: [app.endpoint] }]);
  const config = loadConfig({ DREAM_DATA_DIR: path.join(dir, 'data'), DREAM_API_URL: api.url, DREAM_LOG_LEVEL: 'info' });
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  proxy = await startProxy({ config, token: TOKEN, log, port: 0, host: '127.0.0.1', certs, httpsPort: 0 });
  await proxy.routes.synced;
});

afterAll(async () => {
  await proxy?.close();
  await api?.close();
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const secureGet = () => tlsRequest(proxy.httpsPort!, HOST, '/', { ca, agent: false }).then((r) => r.status);

describe('a listener whose accept fails', () => {
  it('keeps the proxy serving plain HTTP and HTTPS, with one ACCEPT_FAILED warning a listener', async () => {
    const [plain, secure] = proxy.servers;
    expect(() => { plain!.emit('error', acceptError('ENOBUFS')); plain!.emit('error', acceptError('ENOMEM')); }).not.toThrow();
    expect(await request(proxy.port, HOST)).toMatchObject({ status: 200 });
    expect(() => secure!.emit('error', acceptError('ENOBUFS'))).not.toThrow();
    expect(await secureGet()).toBe(200);
    const warns = lines.filter((l) => l.code === 'ACCEPT_FAILED');
    expect(warns).toMatchObject([{ level: 40, listener: 'plain HTTP', errno: 'ENOBUFS' }, { level: 40, listener: 'HTTPS', errno: 'ENOBUFS' }]);
    expect(String(warns[0]!.msg)).toContain('short of memory');
  });

  it('says FD_LIMIT_REACHED for an accept that found no descriptor', async () => {
    expect(() => proxy.servers[0]!.emit('error', acceptError('EMFILE'))).not.toThrow();
    expect(lines.filter((l) => l.code === 'FD_LIMIT_REACHED')).toMatchObject([{ level: 40, errno: 'EMFILE' }]);
    expect(await request(proxy.port, HOST)).toMatchObject({ status: 200 });
  });
});
