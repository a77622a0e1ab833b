// Runs the real `apps/cli/bin/dream.js` as a child process against an in-memory fake of the REST API
// and checks what a user sees: stdout, stderr, exit codes and the credentials file.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeFailedBuild, fakePush, startFakeApi, TOKEN, type FakeApi } from './cli-fake-api.js';

const BIN = fileURLToPath(new URL('../../apps/cli/bin/dream.js', import.meta.url));

interface Result { code: number; stdout: string; stderr: string }

let api: FakeApi;
let home: string;
let cfgFile: string;

function dream(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(BIN, args, {
      env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, XDG_CONFIG_HOME: path.join(home, 'cfg'), ...opts.env },
      timeout: 30_000,
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  api = await startFakeApi();
  home = await mkdtemp(path.join(os.tmpdir(), 'dream-cli-e2e-'));
  cfgFile = path.join(home, 'cfg', 'dream', 'config.json');
});
afterAll(async () => { await api?.close(); });

describe('dream CLI against a fake api', () => {
  it('prints usage and exits 2 for an unknown command or flag', async () => {
    const r = await dream(['deploy']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Unknown command `deploy`. Commands: login, logout, whoami, apps, config');
    expect(r.stderr).toContain('dream apps create NAME [--branch B]');
    const f = await dream(['apps', '--force']);
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('Unknown flag --force');
  });

  it('tells the user to log in when there is no token', async () => {
    const r = await dream(['apps', '--url', api.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('You are not logged in');
    expect(r.stderr).toContain('dream login --token');
  });

  it('gives a friendly message when the api cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await dream(['apps', '--url', url, '--token', TOKEN]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot reach the DreamNet api at ${url}`);
    expect(r.stderr).toContain('Start it with `npm start`.');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('refuses a wrong token at login and saves nothing', async () => {
    const r = await dream(['login', '--url', api.url, '--token', 'wrong']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`The api at ${api.url} rejected that token; nothing was saved.`);
    await expect(stat(cfgFile)).rejects.toThrow();
  });

  it('logs in with a token from stdin and writes a 0600 credentials file', async () => {
    const r = await dream(['login', '--url', api.url], { input: `${TOKEN}\n` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Logged in to ${api.url} as admin (scope: admin).`);
    expect(r.stdout).toContain('Next: create an app with `dream apps create NAME`.');
    expect((await stat(cfgFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(cfgFile, 'utf8'))).toEqual({ url: api.url, token: TOKEN });
    const who = await dream(['whoami']);
    expect(who.stdout).toContain(`admin (scope: admin) at ${api.url}`);
  });

  it('creates an app and prints the git remote commands', async () => {
    const r = await dream(['apps', 'create', 'hello']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created app hello.');
    expect(r.stdout).toContain(`  git remote add dream ${api.url}/git/hello.git\n  git push dream main\n`);
    const b = await dream(['apps', 'create', 'staging-app', '--branch', 'staging']);
    expect(b.stdout).toContain('git push dream HEAD:staging');
    expect(api.apps.get('staging-app')?.deployBranch).toBe('staging');
  });

  it('reports api errors with their message and a next step, exit 1', async () => {
    const dup = await dream(['apps', 'create', 'hello']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('Error: An app with that name already exists. Pick another name.\nNext: Pick another name, or look at the existing one with `dream apps info hello`.\n');
    const missing = await dream(['apps', 'info', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('Error: No app with that name. List apps with `dream apps`.');
    const bad = await dream(['apps', 'create', 'Bad_Name']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('App names must match');
  });

  it('sends a bad token from DREAM_TOKEN and explains the 401', async () => {
    const r = await dream(['apps'], { env: { DREAM_TOKEN: 'nope' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Missing or invalid token.');
  });

  it('lists apps as an aligned table and as parseable JSON', async () => {
    fakePush(api, 'hello');
    const t = await dream(['apps']);
    expect(t.code).toBe(0);
    const lines = t.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'NAME         RELEASE  STATUS        REPLICAS  DEPLOYED  URL',
      'hello        v1       healthy       1/1       just now  http://hello.dream:8080',
      'staging-app  -        not deployed  0/1       -         http://staging-app.dream:8080',
    ]);
    const j = await dream(['apps', '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as { items: { name: string }[] };
    expect(parsed.items.map((a) => a.name)).toEqual(['hello', 'staging-app']);
    const info = await dream(['apps', 'info', 'hello', '--json']);
    expect(JSON.parse(info.stdout).currentRelease.version).toBe(1);
  });

  it('changes an app\'s proxy settings in one PATCH, says what is set now and that no redeploy is needed', async () => {
    const r = await dream(['apps', 'set', 'hello', 'max-request-body=50m', 'request-buffering=off']);
    expect(r.code, r.stderr).toBe(0);
    expect(api.bodies.at(-1)).toEqual({ maxRequestBody: 52428800, requestBuffering: false });
    expect(r.stdout).toMatch(/^Changed settings of hello:\n  Max request body: +50 MiB \(52428800 bytes\)\n  Request buffering: +off\n/);
    expect(r.stdout).toContain('no redeploy needed');
    const info = await dream(['apps', 'info', 'hello']);
    expect(info.stdout).toMatch(/Request buffering: +off\n/);
    const back = await dream(['apps', 'set', 'hello', 'max-request-body=default', 'request-buffering=default']);
    expect(back.code, back.stderr).toBe(0);
    expect(api.bodies.at(-1)).toEqual({ maxRequestBody: null, requestBuffering: null });
    expect(back.stdout).toMatch(/Max request body: +platform default\n/);
  });

  it('refuses a bad app setting with exit 2 before sending anything', async () => {
    const sent = api.bodies.length;
    const r = await dream(['apps', 'set', 'hello', 'max-request-body=lots']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: "lots" is not a size for max-request-body\.\nNext: Use bytes such as `max-request-body=1048576`/);
    expect(api.bodies.length).toBe(sent);
  });

  it('sets config without echoing values, lists keys and unsets them', async () => {
    const set = await dream(['config', 'set', 'hello', 'DATABASE_URL=postgres://u:s3cr3t@db/x', 'MODE=prod']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('Set DATABASE_URL, MODE on hello (values hidden).');
    expect(set.stdout).toContain('Made release v2.');
    expect(set.stdout + set.stderr).not.toContain('s3cr3t');
    expect(api.bodies).toContainEqual({ set: { DATABASE_URL: 'postgres://u:s3cr3t@db/x', MODE: 'prod' } });
    const list = await dream(['config', 'hello']);
    expect(list.stdout).toMatch(/^KEY {11}FINGERPRINT {3}UPDATED\nDATABASE_URL {2}[0-9a-f]{12}  just now\nMODE/);
    expect(list.stdout).not.toContain('s3cr3t');
    const bad = await dream(['config', 'set', 'hello', 'lower=1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"lower" is not a valid config key');
    const noEq = await dream(['config', 'set', 'hello', 'justasecret']);
    expect(noEq.code).toBe(2);
    expect(noEq.stderr).not.toContain('justasecret');
    const unset = await dream(['config', 'unset', 'hello', 'MODE']);
    expect(unset.stdout).toContain('Unset MODE on hello.');
    expect([...api.apps.get('hello')!.config.keys()]).toEqual(['DATABASE_URL']);
  });

  it('lists releases and deployments, and shows one deployment with events and build log', async () => {
    const rel = await dream(['releases', 'hello']);
    expect(rel.stdout.split('\n')[0]).toMatch(/^VERSION  CREATED +DESCRIPTION +CONFIG  IMAGE$/);
    expect(rel.stdout).toContain('v1       just now  Deploy 1a2b3c4');
    const deps = await dream(['deployments', 'hello']);
    const id = api.apps.get('hello')!.deployments[0]!.id;
    expect(deps.stdout).toContain(id);
    const one = await dream(['deployments', 'info', 'hello', id]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/Events:\nAT +STATE +REASON\n.*queued/);
    expect(one.stdout).toContain('Build log:\nStep 1/2 : FROM dreamnet/node:20\nStep 2/2 : CMD');
    expect(one.stdout).not.toContain('\u001b');
    expect(one.stdout).toMatch(/Events:\nAT {19}STATE {6}REASON\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  queued\n/);
    const failedId = fakeFailedBuild(api, 'hello');
    const list2 = await dream(['deployments', 'list', 'hello']);
    expect(list2.stdout.split('\n')[1]).toMatch(new RegExp(`^${failedId}  -        failed   just now  BUILD_FAILED: npm ci exited 1$`));
    const failed = await dream(['deployments', 'info', 'hello', failedId]);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toContain('Release:     none (no image was built)');
    expect(failed.stdout).toContain('State:       failed (BUILD_FAILED: npm ci exited 1)');
    expect(failed.stdout).toContain('Build log:\nStep 3/5 : RUN npm ci\nnpm ERR! missing package-lock.json\n');
    const none = await dream(['deployments', 'info', 'hello', 'no-such-id']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No such deployment for this app.');
  });

  it('rolls back, scales and restarts, and exits 1 when a deployment fails', async () => {
    const rb = await dream(['rollback', 'hello', 'v1']);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toMatch(/Made release v4, a copy of v1\.\nDeployment [0-9a-f-]+: v4 is healthy\./);
    const missing = await dream(['rollback', 'hello', '99']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No such release for this app.');
    const sc = await dream(['scale', 'hello', '3']);
    expect(sc.stdout).toContain('Scaled hello to 3 replicas.');
    expect(api.apps.get('hello')!.replicas).toBe(3);
    api.nextState = { state: 'failed', reason: 'health check timed out' };
    const rs = await dream(['restart', 'hello']);
    api.nextState = { state: 'healthy', reason: null };
    expect(rs.code).toBe(1);
    expect(rs.stdout).toContain('Restarted hello.');
    expect(rs.stderr).toMatch(/ended failed \(health check timed out\)\. The previous release keeps serving\.\nNext: See its events and build log with `dream deployments info hello [0-9a-f-]+`/);
    const noRelease = await dream(['restart', 'staging-app']);
    expect(noRelease.code).toBe(1);
    expect(noRelease.stderr).toContain('Deploy it first with `git push dream main`.');
    const early = await dream(['scale', 'staging-app', '2']);
    expect(early.code).toBe(0);
    expect(early.stdout).toContain('Scaled staging-app to 2 replicas.\nIt has no release yet; that many replicas start with the first deploy.');
    const badN = await dream(['scale', 'hello', 'lots']);
    expect(badN.code).toBe(2);
  });

  it('prints the URL, and open runs xdg-open with it as one argument', async () => {
    const u = await dream(['url', 'hello']);
    expect(u.stdout).toBe('http://hello.dream:8080\n');
    const bin = path.join(home, 'bin');
    const log = path.join(home, 'xdg-open.log');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    await writeFile(path.join(bin, 'xdg-open'), `#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done > '${log}'\n`);
    await chmod(path.join(bin, 'xdg-open'), 0o755);
    const o = await dream(['open', 'hello'], { env: { PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(o.code).toBe(0);
    expect(o.stdout).toBe('http://hello.dream:8080\n');
    await expect.poll(() => readFile(log, 'utf8').catch(() => ''), { timeout: 5000 }).toBe('arg:http://hello.dream:8080\n');
    // A PATH with node alone: node's own directory may be /usr/bin, which has xdg-open wherever
    // xdg-utils is installed (Chromium for the browser test pulls it in).
    const nodeOnly = path.join(home, 'node-only');
    await mkdir(nodeOnly, { recursive: true });
    await symlink(process.execPath, path.join(nodeOnly, 'node')).catch(() => {});
    const noOpener = await dream(['open', 'hello'], { env: { PATH: nodeOnly } });
    expect(noOpener.stdout).toContain('No xdg-open found');
  });

  it('deletes an app only with a matching --confirm', async () => {
    const no = await dream(['apps', 'delete', 'staging-app']);
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('Re-run as `dream apps delete staging-app --confirm staging-app`.');
    const wrong = await dream(['apps', 'delete', 'staging-app', '--confirm', 'hello']);
    expect(wrong.code).toBe(2);
    expect(api.apps.has('staging-app')).toBe(true);
    const yes = await dream(['apps', 'delete', 'staging-app', '--confirm', 'staging-app']);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('Deleted app staging-app.');
    expect(api.apps.has('staging-app')).toBe(false);
  });

  it('logs out by removing the credentials file', async () => {
    const r = await dream(['logout']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Logged out: removed ${cfgFile}.`);
    await expect(stat(cfgFile)).rejects.toThrow();
    const again = await dream(['apps']);
    expect(again.stderr).toContain('You are not logged in');
  });
});
