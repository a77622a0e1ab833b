// A small typed client of the public REST API. Turns "nobody answered" and error answers into
// CliErrors whose message and hint are ready to print.
import type { App, AppChange, ConfigChange, ConfigItem, Deployment, Domain, List, Release, RootCa, ScaleResult, Whoami } from './api-types.js';
import { ApiError, CliError } from './errors.js';
import { hintFor } from './hints.js';

export interface ClientOptions {
  url: string;
  token?: string;
  /** How the URL was chosen, to name the knob in "cannot reach" errors. */
  urlSource?: string;
  /** Which command is running, for hints. */
  command?: string;
  fetch?: typeof fetch;
}

const seg = encodeURIComponent;

export class DreamClient {
  constructor(private readonly opts: ClientOptions) {}

  get url(): string {
    return this.opts.url;
  }

  whoami() { return this.request<Whoami>('GET', '/v1/whoami'); }
  listApps() { return this.request<List<App>>('GET', '/v1/apps'); }
  createApp(name: string, deployBranch?: string) {
    return this.request<App>('POST', '/v1/apps', { name, ...(deployBranch ? { deployBranch } : {}) }, name);
  }
  getApp(app: string) { return this.request<App>('GET', `/v1/apps/${seg(app)}`, undefined, app); }
  updateApp(app: string, change: AppChange) { return this.request<App>('PATCH', `/v1/apps/${seg(app)}`, change, app); }
  deleteApp(app: string) { return this.request<void>('DELETE', `/v1/apps/${seg(app)}`, undefined, app); }
  listConfig(app: string) { return this.request<List<ConfigItem>>('GET', `/v1/apps/${seg(app)}/config`, undefined, app); }
  patchConfig(app: string, change: { set?: Record<string, string>; unset?: string[] }) {
    return this.request<ConfigChange>('PATCH', `/v1/apps/${seg(app)}/config`, change, app);
  }
  listReleases(app: string) { return this.request<List<Release>>('GET', `/v1/apps/${seg(app)}/releases`, undefined, app); }
  listDeployments(app: string) { return this.request<List<Deployment>>('GET', `/v1/apps/${seg(app)}/deployments`, undefined, app); }
  getDeployment(app: string, id: string) {
    return this.request<Deployment>('GET', `/v1/apps/${seg(app)}/deployments/${seg(id)}`, undefined, app);
  }
  rollback(app: string, version: number) {
    return this.request<{ release: Release; deployment: Deployment }>('POST', `/v1/apps/${seg(app)}/rollback`, { version }, app);
  }
  scale(app: string, replicas: number) {
    return this.request<ScaleResult>('POST', `/v1/apps/${seg(app)}/scale`, { replicas }, app);
  }
  listDomains(app: string) { return this.request<List<Domain>>('GET', `/v1/apps/${seg(app)}/domains`, undefined, app); }
  addDomain(app: string, host: string, move = false) { return this.request<Domain>('POST', `/v1/apps/${seg(app)}/domains`, move ? { host, move } : { host }, app); }
  removeDomain(app: string, host: string) { return this.request<void>('DELETE', `/v1/apps/${seg(app)}/domains/${seg(host)}`, undefined, app); }
  rootCa() { return this.request<RootCa>('GET', '/v1/tls/root'); }
  restart(app: string) { return this.request<{ deployment: Deployment }>('POST', `/v1/apps/${seg(app)}/restart`, undefined, app); }

  async request<T>(method: string, path: string, body?: unknown, app?: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.opts.url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw this.unreachable(e);
    }
    const text = await res.text();
    if (res.ok) {
      try {
        return (text ? JSON.parse(text) : undefined) as T;
      } catch {
        throw new CliError(`The server at ${this.opts.url} answered ${method} ${path} with something that is not JSON.`, 'Check that --url / DREAM_URL points at the DreamNet api, not another server.');
      }
    }
    throw this.apiError(res.status, text, app);
  }

  private unreachable(e: unknown): CliError {
    const cause = (e as { cause?: { code?: string } })?.cause?.code;
    // Connected, but no answer in time (undici's 5-minute header timeout): the work may go on.
    if (cause === 'UND_ERR_HEADERS_TIMEOUT' || cause === 'UND_ERR_BODY_TIMEOUT') {
      return new CliError(`The api at ${this.opts.url} did not answer in time.`, 'The operation may still be running; check with `dream deployments APP`.');
    }
    const how = this.opts.urlSource === 'flag' ? 'the --url flag'
      : this.opts.urlSource === 'env' ? 'DREAM_URL'
        : this.opts.urlSource === 'file' ? '`dream login --url URL`' : '--url or DREAM_URL';
    return new CliError(
      `Cannot reach the DreamNet api at ${this.opts.url}${cause ? ` (${cause})` : ''}. Is it running? Start it with \`npm start\`.`,
      `If the api runs elsewhere, point the CLI at it with ${how}.`,
    );
  }

  private apiError(status: number, text: string, app?: string): ApiError {
    let parsed: { code?: unknown; message?: unknown; requestId?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch { /* not JSON: e.g. a proxy's HTML page; fall through to the generic message */ }
    const code = typeof parsed.code === 'string' ? parsed.code : `HTTP_${status}`;
    const message = typeof parsed.message === 'string' && parsed.message
      ? parsed.message
      : `The api at ${this.opts.url} answered HTTP ${status}.`;
    const requestId = typeof parsed.requestId === 'string' ? parsed.requestId : undefined;
    const hint = hintFor(code, { app, command: this.opts.command });
    return new ApiError(status, code, message, hint, requestId);
  }
}
