import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { pushCommand } from './apps.js';
import { parsePairs } from './config.js';
import { parseReplicas, parseVersion } from './ops.js';

describe('argument values', () => {
  it('splits KEY=VALUE on the first =', () => {
    expect(parsePairs(['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
  });
  it('refuses a pair without a key and never echoes the argument', () => {
    const err = (() => { try { parsePairs(['hunter2']); } catch (e) { return e as CliError; } })();
    expect(err).toBeInstanceOf(CliError);
    expect(err!.exitCode).toBe(2);
    expect(err!.message).not.toContain('hunter2');
    expect(() => parsePairs(['=v'])).toThrow(CliError);
  });
  it('reads versions as 3 or v3', () => {
    expect(parseVersion('3')).toBe(3);
    expect(parseVersion('v12')).toBe(12);
    for (const bad of ['0', 'x', '-1', '1.5', 'v']) expect(() => parseVersion(bad)).toThrow(CliError);
  });
  it('reads replica counts', () => {
    expect(parseReplicas('1')).toBe(1);
    expect(parseReplicas('20')).toBe(20);
    for (const bad of ['0', '21', '-1', 'two', '1.5', '']) expect(() => parseReplicas(bad)).toThrow(CliError);
    expect(() => parseReplicas('0')).toThrow(/not a replica count/);
    try { parseReplicas('0'); } catch (e) { expect((e as CliError).hint).toBe('Use a whole number from 1 to 20, e.g. `dream scale APP 2`.'); }
  });
  it('prints the push command for the deploy branch', () => {
    expect(pushCommand('main')).toBe('git push dream main');
    expect(pushCommand('production')).toBe('git push dream HEAD:production');
  });
});
