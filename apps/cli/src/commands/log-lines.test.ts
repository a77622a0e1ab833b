import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { DEFAULT_TAIL, formatLine, logOptions, logQuery, parseFrame, type LogMessage } from './log-lines.js';
import { exitCodeOf } from './terminal.js';
import { refusal, socketUrl } from './socket.js';

const msg = (over: Partial<LogMessage> = {}): LogMessage => ({ cursor: 7, timestamp: '2025-01-02T03:04:05.678Z', source: 'runtime', replica: 2, stream: 'stdout', line: 'hello', ...over });

describe('logs flags → query', () => {
  it('defaults to the last 100 lines; a cursor replaces tail and since on reconnect', () => {
    const o = logOptions({ json: false, help: false, follow: true, replica: '2' });
    expect(o.tail).toBe(DEFAULT_TAIL);
    expect(logQuery(o, undefined).toString()).toBe('follow=1&tail=100&replica=2');
    expect(logQuery(o, 41).toString()).toBe('follow=1&since=41&replica=2');
    const b = logOptions({ json: false, help: false, build: true, since: '10m' });
    expect(logQuery(b, undefined).toString()).toBe('since=10m&source=build');
  });

  it('rejects bad values with exit code 2', () => {
    for (const f of [{ tail: '-1' }, { tail: 'x' }, { since: 'yesterday' }, { replica: 'one' }]) {
      const e = (() => { try { logOptions({ json: false, help: false, ...f }); } catch (x) { return x; } return null; })();
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).exitCode).toBe(2);
    }
  });
});

describe('frames and lines', () => {
  it('parses lines and the lag notice', () => {
    expect(parseFrame(JSON.stringify(msg()))).toEqual({ kind: 'line', msg: msg() });
    expect(parseFrame('{"type":"lagged","resumeFrom":9}')).toEqual({ kind: 'lagged', resumeFrom: 9 });
    expect(parseFrame('nope')).toBeNull();
    expect(exitCodeOf('{"type":"exit","code":3}')).toBe(3);
    expect(exitCodeOf('{"type":"resize"}')).toBeNull();
  });

  it('plain lines for pipes, colours per replica and stream for a terminal, control characters defused', () => {
    expect(formatLine('web', msg(), false)).toBe('2025-01-02T03:04:05.678Z web[2] hello');
    expect(formatLine('web', msg({ source: 'build', replica: 0, stream: 'stderr' }), false)).toBe('2025-01-02T03:04:05.678Z build stderr hello');
    const c1 = formatLine('web', msg({ replica: 1 }), true);
    const c2 = formatLine('web', msg({ replica: 2 }), true);
    expect(c1).toContain('\x1b[');
    expect(c1.replace('[1]', '[2]')).not.toBe(c2);
    expect(formatLine('web', msg({ stream: 'stderr' }), true)).toContain('\x1b[31mhello');
    expect(formatLine('web', msg({ line: 'a\x1b]0;pwned\x07b' }), true)).not.toContain('\x1b]0');
  });
});

describe('socket helpers', () => {
  it('turns the api URL into a ws URL and a refusal into an error with a next step', () => {
    expect(socketUrl('https://api.example:7070', '/v1/apps/a/logs', new URLSearchParams('follow=1'))).toBe('wss://api.example:7070/v1/apps/a/logs?follow=1');
    const e = refusal(403, '{"code":"FORBIDDEN","message":"This token is for other apps."}', 'http://h', 'a', 'logs', 'x');
    expect(e.status).toBe(403);
    expect(e.hint).toContain('dream whoami');
    expect(refusal(502, '<html>', 'http://h', 'a', 'logs', 'Try later.').hint).toBe('Try later.');
  });
});
