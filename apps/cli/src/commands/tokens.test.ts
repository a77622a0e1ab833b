// `dream tokens …` against the real api code (listening on a loopback port).
import { describe, expect, it } from 'vitest';
import { withRealApi } from './real-api.js';

const { dream } = withRealApi();

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
