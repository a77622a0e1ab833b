import { describe, expect, it } from 'vitest';
import type { App } from '../api-types.js';
import { CliError } from '../errors.js';
import { onOffText, parseOnOff, parseSettings, parseSize, settingRows, sizeText } from './app-settings.js';

function refusal(fn: () => unknown): CliError {
  try { fn(); } catch (e) { if (e instanceof CliError) return e; throw e; }
  throw new Error('expected a CliError');
}

describe('dream apps set values', () => {
  it('reads sizes as nginx does: bytes, or k/m/g with 1k = 1024', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('0')).toBe(0);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(parseSize('512K')).toBe(512 * 1024);
    expect(parseSize('50m')).toBe(52428800);
    expect(parseSize('50M')).toBe(52428800);
    expect(parseSize('2g')).toBe(2 * 1024 ** 3);
    expect(parseSize('2G')).toBe(2 * 1024 ** 3);
  });

  it('refuses anything else as a size, naming the key and what it takes (exit 2)', () => {
    for (const bad of ['', '-1', '1.5m', '50mb', '50 m', 'm', '1t', 'lots', '0x10', '99999999999g']) {
      const e = refusal(() => parseSize(bad));
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain('max-request-body');
      expect(e.message).toContain(`"${bad}"`);
      expect(e.hint).toContain('`max-request-body=50m`');
      expect(e.hint).toContain('`max-request-body=0` for no limit');
    }
  });

  it('reads on/off and true/false in any case', () => {
    for (const on of ['on', 'ON', 'true', 'True']) expect(parseOnOff(on)).toBe(true);
    for (const off of ['off', 'Off', 'false', 'FALSE']) expect(parseOnOff(off)).toBe(false);
    const e = refusal(() => parseOnOff('yes'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('"yes" is not on or off for request-buffering.');
    expect(e.hint).toContain('`request-buffering=on` or `request-buffering=off`');
  });

  it('maps keys to the api fields, with default or an empty value as null', () => {
    expect(parseSettings(['max-request-body=50m', 'request-buffering=off', 'health-check-path=/healthz', 'deploy-branch=prod'])).toEqual({
      keys: ['max-request-body', 'request-buffering', 'health-check-path', 'deploy-branch'],
      change: { maxRequestBody: 52428800, requestBuffering: false, healthCheckPath: '/healthz', deployBranch: 'prod' },
    });
    expect(parseSettings(['max-request-body=default', 'request-buffering=', 'health-check-path=DEFAULT']).change)
      .toEqual({ maxRequestBody: null, requestBuffering: null, healthCheckPath: null });
    expect(parseSettings(['max-request-body=0']).change).toEqual({ maxRequestBody: 0 });
    // A branch has no default to go back to: "default" is taken as its name.
    expect(parseSettings(['deploy-branch=default']).change).toEqual({ deployBranch: 'default' });
    expect(parseSettings(['request-buffering=on', 'request-buffering=off'])).toEqual({ keys: ['request-buffering'], change: { requestBuffering: false } });
  });

  it('refuses unknown keys, missing "=", a relative path and an empty branch', () => {
    const unknown = refusal(() => parseSettings(['max-request-body=1m', 'client_max_body_size=1m']));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toBe('Unknown setting "client_max_body_size". Settings: health-check-path, max-request-body, request-buffering, deploy-branch.');
    expect(refusal(() => parseSettings(['max-request-body'])).message).toBe('Expected KEY=VALUE, got "max-request-body".');
    expect(refusal(() => parseSettings(['=50m'])).exitCode).toBe(2);
    expect(refusal(() => parseSettings(['health-check-path=healthz'])).message).toContain('must start with "/"');
    expect(refusal(() => parseSettings(['deploy-branch='])).message).toBe('deploy-branch needs a branch name.');
    expect(refusal(() => parseSettings(['max-request-body=50x'])).message).toBe('"50x" is not a size for max-request-body.');
  });
});

describe('app settings as text', () => {
  it('shows sizes in binary units with the exact bytes', () => {
    expect(sizeText(52428800)).toBe('50 MiB (52428800 bytes)');
    expect(sizeText(1024 ** 3)).toBe('1 GiB (1073741824 bytes)');
    expect(sizeText(1536)).toBe('1.5 KiB (1536 bytes)');
    expect(sizeText(1000000)).toBe('976.6 KiB (1000000 bytes)');
    expect(sizeText(100)).toBe('100 bytes');
    expect(sizeText(1)).toBe('1 byte');
    expect(sizeText(0)).toBe('no limit');
    expect(sizeText(null)).toBe('platform default');
    expect(sizeText(undefined)).toBe('-');
    expect([onOffText(true), onOffText(false), onOffText(null), onOffText(undefined)]).toEqual(['on', 'off', 'platform default', '-']);
  });

  it('lists the settings asked for, in a fixed order', () => {
    const a = { deployBranch: 'main', healthCheckPath: null, maxRequestBody: 0, requestBuffering: null } as App;
    expect(settingRows(a)).toEqual([
      ['Deploy branch', 'main'],
      ['Health check path', 'platform default (GET /, any answer below 500)'],
      ['Max request body', 'no limit'],
      ['Request buffering', 'platform default'],
    ]);
    expect(settingRows({ ...a, healthCheckPath: '/up' }, ['request-buffering', 'health-check-path'])).toEqual([
      ['Health check path', '/up'],
      ['Request buffering', 'platform default'],
    ]);
  });
});
