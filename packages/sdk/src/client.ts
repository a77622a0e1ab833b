// A typed client of the DreamNet Platform REST API. Error answers become DreamNetApiError carrying
// the catalogued code and message (see docs/errors.md).
import { ROUTES, routePath, type RouteName } from './routes.js';
import type { ApiErrorBody, App, AppChange, Domain, ConfigItem, CreatedToken, Deployment, Hooks, Page, Release, Scope, Token, Whoami } from './types.js';

export interface ClientOptions { url: string; token: string; fetch?: typeof fetch }
export interface PageParams { limit?: number; cursor?: string }

export class DreamNetApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly requestId?: string) {
    super(message);
    this.name = 'DreamNetApiError';
  }
}

type Params = Record<string, string>;
interface CallOptions { params?: Params; query?: Record<string, string | number | boolean | undefined>; body?: unknown; raw?: { data: Uint8Array; contentType: string }; headers?: Record<string, string> }

export class DreamNetClient {
  readonly url: string;
  constructor(private readonly opts: ClientOptions) {
    this.url = opts.url.replace(/\/$/, '');
  }

  whoami() { return this.call<Whoami>('whoami'); }
  listApps(p: PageParams = {}) { return this.call<Page<App>>('listApps', { query: { ...p } }); }
  createApp(name: string, deployBranch?: string) { return this.call<App>('createApp', { body: { name, ...(deployBranch ? { deployBranch } : {}) } }); }
  getApp(app: string) { return this.call<App>('getApp', { params: { app } }); }
  updateApp(app: string, change: AppChange) { return this.call<App>('updateApp', { params: { app }, body: change }); }
  deleteApp(app: string) { return this.call<void>('deleteApp', { params: { app } }); }
  listConfig(app: string) { return this.call<{ items: ConfigItem[] }>('listConfig', { params: { app } }); }
  patchConfig(app: string, change: { set?: Record<string, string>; unset?: string[] }) {
    return this.call<{ items: ConfigItem[]; release?: Release; deployment?: Deployment }>('patchConfig', { params: { app }, body: change });
  }
  listReleases(app: string, p: PageParams = {}) { return this.call<Page<Release>>('listReleases', { params: { app }, query: { ...p } }); }
  rollback(app: string, version: number) { return this.call<{ release: Release; deployment: Deployment }>('rollback', { params: { app }, body: { version } }); }
  listAppDeployments(app: string, p: PageParams = {}) { return this.call<Page<Deployment>>('listAppDeployments', { params: { app }, query: { ...p } }); }
  getAppDeployment(app: string, id: string) { return this.call<Deployment>('getAppDeployment', { params: { app, id } }); }
  listDeployments(p: PageParams = {}) { return this.call<Page<Deployment>>('listDeployments', { query: { ...p } }); }
  getDeployment(id: string) { return this.call<Deployment>('getDeployment', { params: { id } }); }
  scale(app: string, replicas: number) { return this.call<{ app: string; replicas: number; deployment?: Deployment }>('scale', { params: { app }, body: { replicas } }); }
  restart(app: string) { return this.call<{ deployment: Deployment }>('restart', { params: { app } }); }
  listDomains(app: string) { return this.call<Page<Domain>>('listDomains', { params: { app } }); }
  /** `move`: take the domain from the app that has it, in one route switch (needs deploy access to both). */
  addDomain(app: string, host: string, opts: { move?: boolean } = {}) { return this.call<Domain>('addDomain', { params: { app }, body: opts.move ? { host, move: true } : { host } }); }
  removeDomain(app: string, host: string) { return this.call<void>('removeDomain', { params: { app, host } }); }
  /** The .dream root certificate to trust once (PEM). */
  tlsRoot() { return this.call<{ pem: string; fingerprint256: string }>('tlsRoot'); }
  getHooks(app: string) { return this.call<Hooks>('getHooks', { params: { app } }); }
  setHooks(app: string, h: { secret?: string | null; repoUrl?: string | null; notifyUrl?: string | null; notifySecret?: string | null }) { return this.call<Hooks>('setHooks', { params: { app }, body: h }); }
  listTokens(p: PageParams = {}) { return this.call<Page<Token>>('listTokens', { query: { ...p } }); }
  createToken(name: string, scope: Scope, apps?: string[]) { return this.call<CreatedToken>('createToken', { body: { name, scope, ...(apps ? { apps } : {}) } }); }
  revokeToken(id: string) { return this.call<void>('revokeToken', { params: { id } }); }

  /** Uploads a tar.gz of the source; answers at once with the queued deployment (poll it) unless `wait`. */
  uploadSource(app: string, archive: Uint8Array, o: { idempotencyKey?: string; wait?: boolean; description?: string } = {}) {
    return this.call<Deployment>('uploadSource', {
      params: { app }, query: { wait: o.wait, description: o.description },
      raw: { data: archive, contentType: 'application/gzip' },
      headers: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
    });
  }

  /** Every item of a paginated list, following nextCursor. */
  async all<T>(page: (p: PageParams) => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const p = await page({ limit: 200, cursor });
      out.push(...p.items);
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  private async call<T>(name: RouteName, o: CallOptions = {}): Promise<T> {
    const spec = ROUTES[name];
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.opts.token}`, ...o.headers };
    let body: BodyInit | undefined;
    if (o.raw) { headers['content-type'] = o.raw.contentType; body = o.raw.data as unknown as BodyInit; }
    else if (o.body !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(o.body); }
    const url = `${this.url}${routePath(name, o.params)}${qs.size ? `?${qs}` : ''}`;
    const res = await (this.opts.fetch ?? fetch)(url, { method: spec.method, headers, body });
    const text = await res.text();
    if (!res.ok) {
      let e: Partial<ApiErrorBody> = {};
      try { e = JSON.parse(text) as ApiErrorBody; } catch { /* not ours */ }
      throw new DreamNetApiError(res.status, e.code ?? 'HTTP_ERROR', e.message ?? `${spec.method} ${url} answered ${res.status}`, e.requestId);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}
