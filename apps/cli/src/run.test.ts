import { describe, expect, it } from 'vitest';
import { alreadySaid, run } from './run.js';

describe('alreadySaid', () => {
  it('skips a hint whose command the api message already names', () => {
    expect(alreadySaid('No app named "x". List apps with `dream apps`.', 'List your apps with `dream apps`.')).toBe(true);
    expect(alreadySaid('An app with that name already exists.', 'Look at it with `dream apps info x`.')).toBe(false);
  });
});

describe('run', () => {
  it('prints help to stdout with exit 0, and usage errors to stderr with exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: {}, stdin: process.stdin, now: () => new Date() };
    expect(await run(['help', 'scale'], io)).toBe(0);
    expect(out.join('')).toContain('dream scale APP N');
    expect(await run(['scale', 'app'], io)).toBe(2);
    expect(err.join('')).toContain('Error: `dream scale` needs N.');
  });
});
