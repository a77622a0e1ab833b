import { describe, expect, it } from 'vitest';
import { ago, keyValues, sanitize, table } from './format.js';

describe('table', () => {
  it('aligns columns two spaces apart without trailing spaces', () => {
    expect(table(['NAME', 'RELEASE', 'URL'], [['hello', 'v12', 'http://hello.dream'], ['a-much-longer-name', '-', '']]))
      .toBe([
        'NAME                RELEASE  URL',
        'hello               v12      http://hello.dream',
        'a-much-longer-name  -',
      ].join('\n'));
  });

  it('keeps a cell on one line and strips terminal escapes', () => {
    expect(table(['A', 'B'], [['multi\nline', '\u001b]0;pwned\u0007x']])).toBe('A           B\nmulti line  ]0;pwnedx');
  });

  it('prints headers alone for no rows', () => {
    expect(table(['KEY', 'FINGERPRINT'], [])).toBe('KEY  FINGERPRINT');
  });
});

describe('keyValues', () => {
  it('aligns values after the longest key', () => {
    expect(keyValues([['Name', 'hello'], ['Deploy branch', 'main']])).toBe('Name:           hello\nDeploy branch:  main');
  });
});

describe('ago', () => {
  const now = new Date('2025-01-10T12:00:00Z');
  it('says how long ago', () => {
    expect(ago('2025-01-10T11:59:50Z', now)).toBe('just now');
    expect(ago('2025-01-10T11:55:00Z', now)).toBe('5m ago');
    expect(ago('2025-01-10T09:00:00Z', now)).toBe('3h ago');
    expect(ago('2025-01-08T12:00:00Z', now)).toBe('2d ago');
    expect(ago('2024-01-01T00:00:00Z', now)).toBe('2024-01-01');
    expect(ago(null, now)).toBe('-');
    expect(ago('not a date', now)).toBe('not a date');
  });
});

describe('sanitize', () => {
  it('removes colour codes and control characters but keeps lines', () => {
    expect(sanitize('\u001b[31mStep 1/3\u001b[0m\r\n\tok\u0007')).toBe('Step 1/3\n\tok');
  });
});
