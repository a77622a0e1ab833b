// Every API route the SDK calls: method, path, query parameters and JSON body fields. A test
// (openapi.test.ts) compares this table with the api's /v1/openapi.json, so the two cannot drift.
export interface RouteSpec { method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; path: string; query?: readonly string[]; body?: readonly string[] }

export const ROUTES = {
  whoami: { method: 'GET', path: '/v1/whoami' },
  listApps: { method: 'GET', path: '/v1/apps', query: ['limit', 'cursor'] },
  createApp: { method: 'POST', path: '/v1/apps', body: ['name', 'deployBranch'] },
  getApp: { method: 'GET', path: '/v1/apps/:app' },
  updateApp: { method: 'PATCH', path: '/v1/apps/:app', body: ['deployBranch', 'healthCheckPath', 'maxRequestBody', 'requestBuffering'] },
  deleteApp: { method: 'DELETE', path: '/v1/apps/:app' },
  listConfig: { method: 'GET', path: '/v1/apps/:app/config' },
  patchConfig: { method: 'PATCH', path: '/v1/apps/:app/config', body: ['set', 'unset'] },
  listReleases: { method: 'GET', path: '/v1/apps/:app/releases', query: ['limit', 'cursor'] },
  rollback: { method: 'POST', path: '/v1/apps/:app/rollback', body: ['version'] },
  listAppDeployments: { method: 'GET', path: '/v1/apps/:app/deployments', query: ['limit', 'cursor'] },
  uploadSource: { method: 'POST', path: '/v1/apps/:app/deployments', query: ['wait', 'description'] },
  getAppDeployment: { method: 'GET', path: '/v1/apps/:app/deployments/:id' },
  listDeployments: { method: 'GET', path: '/v1/deployments', query: ['limit', 'cursor'] },
  getDeployment: { method: 'GET', path: '/v1/deployments/:id' },
  scale: { method: 'POST', path: '/v1/apps/:app/scale', body: ['replicas'] },
  restart: { method: 'POST', path: '/v1/apps/:app/restart' },
  listDomains: { method: 'GET', path: '/v1/apps/:app/domains' },
  addDomain: { method: 'POST', path: '/v1/apps/:app/domains', body: ['host', 'move'] },
  removeDomain: { method: 'DELETE', path: '/v1/apps/:app/domains/:host' },
  tlsRoot: { method: 'GET', path: '/v1/tls/root' },
  getHooks: { method: 'GET', path: '/v1/apps/:app/hooks' },
  setHooks: { method: 'PUT', path: '/v1/apps/:app/hooks', body: ['secret', 'repoUrl', 'notifyUrl', 'notifySecret'] },
  listTokens: { method: 'GET', path: '/v1/tokens', query: ['limit', 'cursor'] },
  createToken: { method: 'POST', path: '/v1/tokens', body: ['name', 'scope', 'apps'] },
  revokeToken: { method: 'DELETE', path: '/v1/tokens/:id' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** Fills `:name` segments (URL-encoded). */
export function routePath(name: RouteName, params: Record<string, string> = {}): string {
  return ROUTES[name].path.replace(/:([a-z]+)/g, (_m, k: string) => {
    const v = params[k];
    if (v === undefined) throw new Error(`route ${name} needs :${k}`);
    return encodeURIComponent(v);
  });
}
