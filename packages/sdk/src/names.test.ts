// appName() against the api that has to accept what it derives: no project name may turn into an app
// name the api refuses as reserved. The reserved names come from core's one list, so a name added
// there is covered here without touching this test.
import { RESERVED_APP_NAMES } from '@dreamnet/core/names';
import { describe, expect, it } from 'vitest';
import { DreamNetApiError } from './client.js';
import { appName } from './names.js';
import { liveApi } from './test-api.js';

const reserved = Object.keys(RESERVED_APP_NAMES);
const live = liveApi();

describe('appName never derives a reserved name', () => {
  it('the list is not empty (ns: ns.dream is the .dream zone\'s name server)', () => expect(reserved).toContain('ns'));

  it.each(reserved)('project %j: the api refuses the bare name, accepts the derived one', async (name) => {
    await expect(live.client.createApp(name)).rejects.toMatchObject({ code: 'INVALID_APP_NAME', message: expect.stringMatching(/reserved/) });
    for (const project of [name, name.toUpperCase(), ` ${name}! `]) {
      const app = appName(project);
      expect(app).toBe(`${name}-app`);
      await live.client.createApp(app).catch((e: unknown) => { if (!(e instanceof DreamNetApiError && e.code === 'APP_EXISTS')) throw e; });
    }
    expect((await live.client.getApp(`${name}-app`)).name).toBe(`${name}-app`);
  });

  it('names around a reserved one are kept as they are', () => {
    expect(['ns1', 'dns', 'ns-app', 'n-s'].map((p) => appName(p))).toEqual(['ns1', 'dns', 'ns-app', 'n-s']);
    expect(appName('N.S.')).toBe('n-s');
  });
});
