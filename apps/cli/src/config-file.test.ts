import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, readCredentials, removeCredentials, resolveSettings, writeCredentials } from './config-file.js';

describe('configPath', () => {
  it('prefers XDG_CONFIG_HOME, else ~/.config', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/x/dream/config.json');
    expect(configPath({ HOME: '/h' })).toBe('/h/.config/dream/config.json');
  });
});

describe('resolveSettings', () => {
  const saved = { url: 'http://saved:1', token: 'saved-token' };
  it('flags beat env beat the file beat the default', () => {
    expect(resolveSettings({ url: 'http://flag:1/', token: 't1' }, { DREAM_URL: 'http://env:1', DREAM_TOKEN: 't2' }, saved))
      .toEqual({ url: 'http://flag:1', urlSource: 'flag', token: 't1', tokenSource: 'flag' });
    expect(resolveSettings({}, { DREAM_URL: 'http://env:1', DREAM_TOKEN: 't2' }, saved))
      .toEqual({ url: 'http://env:1', urlSource: 'env', token: 't2', tokenSource: 'env' });
    expect(resolveSettings({}, {}, saved)).toEqual({ url: 'http://saved:1', urlSource: 'file', token: 'saved-token', tokenSource: 'file' });
    expect(resolveSettings({}, {}, {})).toEqual({ url: 'http://127.0.0.1:7070', urlSource: 'default', token: undefined, tokenSource: undefined });
  });
});

describe('credentials file', () => {
  it('is written 0600 in a 0700 directory, read back, and removed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dream-cli-'));
    const file = path.join(dir, 'dream', 'config.json');
    expect(await readCredentials(file)).toEqual({});
    await writeCredentials(file, { url: 'http://a:1', token: 'secret' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: 'http://a:1', token: 'secret' });
    expect(await readCredentials(file)).toEqual({ url: 'http://a:1', token: 'secret' });
    expect(await removeCredentials(file)).toBe(true);
    expect(await removeCredentials(file)).toBe(false);
  });
});
