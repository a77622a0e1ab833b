// main.ts refusing settings that name files it cannot use: one fatal line with a catalogued code
// and the setting's name, exit 2, no stack — with one worker and in the cluster primary (which
// otherwise would re-fork workers dying on the same file forever).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from './tls-pebble.js';

async function runMain(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-startup-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/proxy/src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env, DREAM_DATA_DIR: dataDir, DREAM_API_URL: `http://127.0.0.1:${await freePort()}`, DREAM_INTERNAL_TOKEN: 'int_startup_test',
      DREAM_HTTP_HOST: '127.0.0.1', DREAM_HTTP_PORT: String(await freePort()), DREAM_HTTPS_PORT: String(await freePort()), DREAM_DNS_PORT: '0', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, out };
}

describe('main.ts with a setting naming an unusable file', () => {
  it.each([['1'], ['2']])('a missing DREAM_ACME_CA_BUNDLE stops start-up with SETTING_FILE_UNREADABLE, exit 2 (%s worker(s))', async (workers) => {
    const missing = path.join(os.tmpdir(), 'no-such-dir', 'ca.pem');
    const { code, out } = await runMain({ DREAM_PROXY_WORKERS: workers, DREAM_ACME_CA_BUNDLE: missing });
    expect(code, out).toBe(2);
    const line = JSON.parse(out.trim().split('\n').find((l) => l.includes('SETTING_FILE_UNREADABLE'))!) as { level: number; code: string; msg: string };
    expect(line).toMatchObject({ level: 60, code: 'SETTING_FILE_UNREADABLE' });
    expect(line.msg).toContain(`DREAM_ACME_CA_BUNDLE (${missing}): ENOENT`);
    expect(line.msg).toContain('or unset it');
    expect(out).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('DREAM_TLS_CERT_FILE without DREAM_TLS_KEY_FILE is refused, not silently ignored', async () => {
    const { code, out } = await runMain({ DREAM_PROXY_WORKERS: '1', DREAM_TLS_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' });
    expect(code, out).toBe(2);
    expect(out).toContain('only one of the two is set');
  }, 30_000);
});
