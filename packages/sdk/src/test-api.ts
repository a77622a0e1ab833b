// For SDK tests against the real api (apps/api testApi, listening on a free port): an admin client,
// created before the suite and closed after it. Registers its own vitest hooks: call at the top.
import { afterAll, beforeAll } from 'vitest';
import { testApi } from '../../../apps/api/src/test-support.js';
import { DreamNetClient } from './client.js';

export function liveApi(): { readonly client: DreamNetClient } {
  let t: Awaited<ReturnType<typeof testApi>> | undefined;
  const live = { client: undefined as unknown as DreamNetClient };
  beforeAll(async () => {
    t = await testApi();
    live.client = new DreamNetClient({ url: await t.app.listen({ port: 0, host: '127.0.0.1' }), token: t.admin });
  });
  afterAll(() => t?.app.close());
  return live;
}
