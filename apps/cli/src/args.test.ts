import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.js';

function usageError(argv: string[]): UsageError {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('parseArgs', () => {
  it('resolves two-word commands before one-word ones', () => {
    expect(parseArgs(['apps', 'create', 'hello'])).toMatchObject({ command: 'apps create', positionals: ['hello'] });
    expect(parseArgs(['config', 'hello'])).toMatchObject({ command: 'config', positionals: ['hello'] });
    expect(parseArgs(['config', 'list', 'hello'])).toMatchObject({ command: 'config list', positionals: ['hello'] });
    expect(parseArgs(['apps'])).toMatchObject({ command: 'apps', positionals: [] });
  });

  it('reads flags anywhere, with a space or =', () => {
    const p = parseArgs(['--url', 'http://h:1', 'apps', 'create', 'x', '--branch=prod', '--json']);
    expect(p.flags).toEqual({ json: true, help: false, url: 'http://h:1', branch: 'prod' });
    expect(p.positionals).toEqual(['x']);
  });

  it('takes any number of KEY=VALUE pairs, even ones that look like flags after --', () => {
    expect(parseArgs(['config', 'set', 'a', 'K=1', 'L=x=y']).positionals).toEqual(['a', 'K=1', 'L=x=y']);
    expect(parseArgs(['config', 'unset', 'a', '--', '--weird']).positionals).toEqual(['a', '--weird']);
  });

  it('with no words, or with --help, asks for help', () => {
    expect(parseArgs([]).command).toBe('help');
    expect(parseArgs(['apps', 'create', '--help'])).toMatchObject({ command: 'help', positionals: ['apps create'] });
    expect(parseArgs(['scale', '-h'])).toMatchObject({ command: 'help', positionals: ['scale'] });
  });

  it('rejects unknown commands and lists the valid ones', () => {
    const e = usageError(['deploy', 'x']);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('Unknown command `deploy`');
    expect(e.message).toContain('apps, config');
  });

  it('rejects unknown subcommands with the group usage', () => {
    const e = usageError(['apps', 'frobnicate']);
    expect(e.message).toBe('Unknown command `dream apps frobnicate`.');
    expect(e.usage).toContain('dream apps create NAME [--branch B]');
    expect(e.usage).not.toContain('dream scale');
  });

  it('rejects unknown flags and flags another command owns', () => {
    expect(usageError(['apps', '--force']).message).toContain('Unknown flag --force. Valid flags: --json, --url, --token, --help');
    expect(usageError(['scale', 'a', '2', '--branch', 'x']).message).toBe('`dream scale` does not take --branch. Valid flags: --json, --url, --token, --help.');
    expect(usageError(['--json=yes', 'apps']).message).toContain('--json does not take a value');
  });

  it('rejects a value flag without a value', () => {
    expect(usageError(['apps', 'create', 'x', '--branch']).message).toContain('--branch needs a value');
    expect(usageError(['apps', '--url', '--json']).message).toContain('--url needs a value');
  });

  it('checks the number of arguments', () => {
    expect(usageError(['apps', 'create']).message).toBe('`dream apps create` needs NAME.');
    expect(usageError(['scale', 'a']).message).toBe('`dream scale` needs N.');
    expect(usageError(['scale', 'a', '1', '2']).message).toBe('`dream scale` takes 2 arguments, got 3.');
    expect(usageError(['config', 'set', 'a']).message).toBe('`dream config set` needs KEY=VALUE….');
  });

  it('passes everything after -- to `dream run` verbatim, flags included', () => {
    const p = parseArgs(['run', 'web', '--detach', '--', 'npm', 'run', 'migrate', '--', '--json', '-h']);
    expect(p).toMatchObject({ command: 'run', positionals: ['web', 'npm', 'run', 'migrate', '--', '--json', '-h'], passthrough: ['npm', 'run', 'migrate', '--', '--json', '-h'] });
    expect(p.flags).toEqual({ json: false, help: false, detach: true });
    expect(usageError(['run', 'web']).message).toBe('`dream run` needs CMD….');
    expect(usageError(['run', 'web', 'ls', '--force']).message).toContain('put it after `--`');
  });

  it('reads the logs flags: -f, --tail N, --since, --build, --replica', () => {
    const p = parseArgs(['logs', 'web', '-f', '--tail', '5', '--since=10m', '--build', '--replica', '2']);
    expect(p).toMatchObject({ command: 'logs', positionals: ['web'] });
    expect(p.flags).toEqual({ json: false, help: false, follow: true, tail: '5', since: '10m', build: true, replica: '2' });
    expect(usageError(['shell', 'web', '-f']).message).toContain('`dream shell` does not take --follow');
  });
});
