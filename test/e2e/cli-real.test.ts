// The `dream` CLI against the real platform: what a user types after `npm start`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, commit, gitRepo, postVia, push, startPlatform, type Platform } from './platform.js';

let p: Platform;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-cli-home-'));
beforeAll(async () => { p = await startPlatform(); });
afterAll(async () => { await p?.request('DELETE', '/v1/apps/clidemo').catch(() => {}); await p?.stop(); });

function dream(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'apps/cli/bin/dream.js'), args, { env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('dream CLI against the real api', () => {
  it('logs in, creates an app, follows a push, changes config, rolls back, scales and deletes', async () => {
    const login = await dream('login', '--url', p.apiUrl, '--token', p.token);
    expect(login.code, login.stderr).toBe(0);
    expect(fs.statSync(path.join(home, '.config/dream/config.json')).mode & 0o777).toBe(0o600);

    const created = await dream('apps', 'create', 'clidemo');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`git remote add dream ${p.apiUrl}/git/clidemo.git`);

    const dir = await gitRepo('node-app', { 'body.txt': 'cli v1\n' });
    expect((await push(p, dir, 'clidemo')).code).toBe(0);
    await commit(dir, { 'body.txt': 'cli v2\n' });
    expect((await push(p, dir, 'clidemo')).code).toBe(0);

    const info = await dream('apps', 'info', 'clidemo', '--json');
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ name: 'clidemo', currentRelease: { version: 2 }, status: { healthy: 1 } });

    const set = await dream('config', 'set', 'clidemo', 'GREETING=top-secret-123');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout + set.stderr).not.toContain('top-secret-123');
    expect(await p.get('clidemo', '/env')).toEqual({ status: 200, body: 'top-secret-123' });

    const releases = await dream('releases', 'clidemo', '--json');
    expect(JSON.parse(releases.stdout).items.map((r: { version: number }) => r.version)).toEqual([3, 2, 1]);

    const rb = await dream('rollback', 'clidemo', 'v1');
    expect(rb.code, rb.stderr).toBe(0);
    expect(await p.get('clidemo')).toEqual({ status: 200, body: 'cli v1' });

    const scaled = await dream('scale', 'clidemo', '2');
    expect(scaled.code, scaled.stderr).toBe(0);
    expect((await p.request('GET', '/v1/apps/clidemo')).body.status).toMatchObject({ healthy: 2 });

    // The app's own upload limit, through the real api and proxy: refused at the edge, then lifted.
    const upload = (bytes: number) => postVia(p.proxyPort, 'clidemo.dream', '/', Buffer.alloc(bytes, 1));
    const limited = await dream('apps', 'set', 'clidemo', 'max-request-body=1k');
    expect(limited.code, limited.stderr).toBe(0);
    expect(limited.stdout).toMatch(/Max request body: +1 KiB \(1024 bytes\)\n/);
    await expect.poll(() => upload(2048), { timeout: 10_000 }).toMatchObject({ status: 413, code: 'REQUEST_BODY_TOO_LARGE' });
    expect(await upload(1024)).toEqual({ status: 200, body: 'cli v1' });
    expect((await dream('apps', 'info', 'clidemo')).stdout).toMatch(/Max request body: +1 KiB \(1024 bytes\)\n/);
    expect((await dream('apps', 'set', 'clidemo', 'max-request-body=default')).code).toBe(0);
    await expect.poll(() => upload(2048), { timeout: 10_000 }).toEqual({ status: 200, body: 'cli v1' });

    const url = await dream('url', 'clidemo');
    expect(url.stdout.trim()).toBe(`http://clidemo.dream:${p.proxyPort}`);

    const missing = await dream('apps', 'info', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No app named "nope"/);

    const refused = await dream('apps', 'delete', 'clidemo');
    expect(refused.code).toBe(2);
    const del = await dream('apps', 'delete', 'clidemo', '--confirm', 'clidemo');
    expect(del.code, del.stderr).toBe(0);
    expect((await p.get('clidemo')).status).toBe(404);
  });
});
