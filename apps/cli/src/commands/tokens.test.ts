// `dream tokens …` against the real api code (listening on a loopback port).
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi } from '../../../api/src/test-support.js';
import { run } from '../run.js';

let t: Awaited<ReturnType<typeof testApi>>;
let url: string;
beforeAll(async () => {
  t = await testApi();
  url = await t.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => { await t.app.close(); });

async function dream(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: { DREAM_URL: url, DREAM_TOKEN: t.admin, HOME: os.tmpdir() }, stdin: process.stdin, now: () => new Date() };
  const code = await run(argv, io);
  return { code, out: out.join(''), err: err.join('') };
}

describe('dream tokens', () => {
  it('create prints the secret once; list shows scope, apps and last use; revoke stops it', async () => {
    const made = await dream('tokens', 'create', 'ci', '--scope', 'read', '--apps', 'web,api', '--json');
    expect(made.code, made.err).toBe(0);
    const tok = JSON.parse(made.out);
    expect(tok).toMatchObject({ name: 'ci', scope: 'read', apps: ['web', 'api'] });
    const listed = await dream('tokens');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`${tok.id}\\s+ci\\s+read\\s+web,api\\s+.*never`));
    expect(listed.out).not.toContain(tok.token);
    const human = await dream('tokens', 'create', 'deployer');
    expect(human.out).toMatch(/Token:\s+dream_/);
    expect(human.out).toContain('not shown again');
    const revoked = await dream('tokens', 'revoke', tok.id);
    expect(revoked.out).toContain(`Revoked ${tok.id}`);
    expect((await dream('tokens', 'revoke', tok.id)).code).not.toBe(0);
    expect((await dream('tokens', 'create', 'x', '--scope', 'root')).err).toMatch(/--scope must be one of read, deploy, admin/);
  });
});
