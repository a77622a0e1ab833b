// `dream apps set` and the settings `dream apps info` shows, against the real api code (listening on a
// loopback port): what the user sees, and that the api keeps it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withRealApi } from './real-api.js';

const { dream } = withRealApi();
afterEach(() => { vi.restoreAllMocks(); });

async function settings(app: string) {
  const r = await dream('apps', 'info', app, '--json');
  expect(r.code, r.err).toBe(0);
  const a = JSON.parse(r.out);
  return { healthCheckPath: a.healthCheckPath, maxRequestBody: a.maxRequestBody, requestBuffering: a.requestBuffering, deployBranch: a.deployBranch };
}

describe('dream apps set', () => {
  it('a new app shows the platform defaults in `apps info`', async () => {
    expect((await dream('apps', 'create', 'web')).code).toBe(0);
    const info = await dream('apps', 'info', 'web');
    expect(info.code, info.err).toBe(0);
    expect(info.out).toContain('Deploy branch:      main\n');
    expect(info.out).toContain('Health check path:  platform default (GET /, any answer below 500)\n');
    expect(info.out).toContain('Max request body:   platform default\n');
    expect(info.out).toContain('Request buffering:  platform default\n');
    expect(await settings('web')).toEqual({ healthCheckPath: null, maxRequestBody: null, requestBuffering: null, deployBranch: 'main' });
  });

  it('sets the body limit and buffering in one call and prints what is now set', async () => {
    const fetches = vi.spyOn(globalThis, 'fetch');
    const r = await dream('apps', 'set', 'web', 'max-request-body=50m', 'request-buffering=off');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(fetches).toHaveBeenCalledTimes(1);
    expect(r.out).toBe([
      'Changed settings of web:',
      '  Max request body:   50 MiB (52428800 bytes)',
      '  Request buffering:  off',
      'The proxies apply this to new requests within seconds; no redeploy needed.',
      'Next: see every setting with `dream apps info web`.',
      '',
    ].join('\n'));
    const info = await dream('apps', 'info', 'web');
    expect(info.out).toContain('Max request body:   50 MiB (52428800 bytes)\n');
    expect(info.out).toContain('Request buffering:  off\n');
    expect(await settings('web')).toMatchObject({ maxRequestBody: 52428800, requestBuffering: false });
  });

  it('0 is no limit; default (or nothing) goes back to the platform default', async () => {
    const none = await dream('apps', 'set', 'web', 'max-request-body=0', 'request-buffering=on');
    expect(none.code, none.err).toBe(0);
    expect(none.out).toContain('  Max request body:   no limit\n  Request buffering:  on\n');
    expect(await settings('web')).toMatchObject({ maxRequestBody: 0, requestBuffering: true });
    const back = await dream('apps', 'set', 'web', 'max-request-body=default', 'request-buffering=');
    expect(back.code, back.err).toBe(0);
    expect(back.out).toContain('  Max request body:   platform default\n  Request buffering:  platform default\n');
    expect(await settings('web')).toMatchObject({ maxRequestBody: null, requestBuffering: null });
  });

  it('sets the health-check path and the deploy branch, saying when each applies', async () => {
    const r = await dream('apps', 'set', 'web', 'health-check-path=/healthz', 'deploy-branch=production');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('  Deploy branch:      production\n  Health check path:  /healthz\n');
    expect(r.out).toContain('The health check applies from the next deploy (`git push dream HEAD:production`).');
    expect(r.out).toContain('Pushes to branch production deploy it now: `git push dream HEAD:production`.');
    expect((await dream('apps', 'info', 'web')).out).toContain('Health check path:  /healthz\n');
    expect(await settings('web')).toMatchObject({ healthCheckPath: '/healthz', deployBranch: 'production' });
    expect((await dream('apps', 'set', 'web', 'health-check-path=default')).code).toBe(0);
    expect(await settings('web')).toMatchObject({ healthCheckPath: null });
  });

  it('--json prints the app as the api answers it', async () => {
    const r = await dream('apps', 'set', 'web', 'max-request-body=1g', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ name: 'web', maxRequestBody: 1024 ** 3, requestBuffering: null });
  });

  it('a bad key or value exits 2 with what is accepted, and calls no api', async () => {
    const before = await settings('web');
    const fetches = vi.spyOn(globalThis, 'fetch');
    const size = await dream('apps', 'set', 'web', 'request-buffering=off', 'max-request-body=50mb');
    expect(size.code).toBe(2);
    expect(size.out).toBe('');
    expect(size.err).toBe('Error: "50mb" is not a size for max-request-body.\n'
      + 'Next: Use bytes such as `max-request-body=1048576`, or k, m or g (1k = 1024 bytes) such as `max-request-body=50m`; `max-request-body=0` for no limit, `max-request-body=default` for the platform\'s default.\n');
    const onOff = await dream('apps', 'set', 'web', 'request-buffering=maybe');
    expect(onOff.code).toBe(2);
    expect(onOff.err).toContain('Error: "maybe" is not on or off for request-buffering.\nNext: Use `request-buffering=on` or `request-buffering=off`');
    const key = await dream('apps', 'set', 'web', 'client_max_body_size=50m');
    expect(key.code).toBe(2);
    expect(key.err).toContain('Error: Unknown setting "client_max_body_size". Settings: health-check-path, max-request-body, request-buffering, deploy-branch.\n');
    const path = await dream('apps', 'set', 'web', 'health-check-path=healthz');
    expect(path.code).toBe(2);
    expect(path.err).toContain('must start with "/"');
    const noPairs = await dream('apps', 'set', 'web');
    expect(noPairs.code).toBe(2);
    expect(noPairs.err).toContain('`dream apps set` needs KEY=VALUE….');
    expect(fetches).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(await settings('web')).toEqual(before);
  });

  it('an unknown app is the api\'s error, exit 1', async () => {
    const r = await dream('apps', 'set', 'nope', 'max-request-body=1m');
    expect(r.code).toBe(1);
    expect(r.err).toContain('Error: No app named "nope".');
    expect(r.out).toBe('');
  });

  it('is in the help', async () => {
    const r = await dream('help', 'apps');
    expect(r.out).toContain('dream apps set NAME KEY=VALUE…');
    expect(r.out).toContain('max-request-body=50m (0: no limit)');
  });
});
