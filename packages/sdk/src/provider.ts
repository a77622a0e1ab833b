// DreamNetNativeProvider: deployment-core's provider interface, implemented against this platform.
// deploy() = create app if needed → set env → pack + upload → wait until healthy or failed. A deploy
// that fails (bad build, unhealthy release, refused archive) resolves `success: false` with the
// catalogued message and the tail of the build log; it does not throw.
import crypto from 'node:crypto';
import { DreamNetApiError, DreamNetClient } from './client.js';
import { appName } from './names.js';
import { packDirectory } from './pack.js';
import { TERMINAL, type Deployment } from './types.js';

// deployment-core's interface, exactly as it stands there.
export type DeploymentPlatform = 'dreamnet' | 'vercel' | 'netlify' | 'railway' | string;
export interface DeploymentConfig {
  platform: DeploymentPlatform; projectName: string; sourceDirectory: string;
  buildCommand?: string; outputDirectory?: string; environmentVariables?: Record<string, string>;
}
export interface DeploymentResult {
  success: boolean; platform: DeploymentPlatform; deploymentId?: string; url?: string;
  error?: string; logs?: string[];
}
export interface DeploymentProvider {
  name: DeploymentPlatform;
  deploy(config: DeploymentConfig): Promise<DeploymentResult>;
  getStatus(deploymentId: string): Promise<DeploymentResult>;
  listDeployments(): Promise<DeploymentResult[]>;
}

export interface ProviderOptions {
  url: string;
  token: string;
  /** How long deploy() waits for a deployment to finish (default 15 minutes). */
  timeoutMs?: number;
  pollIntervalMs?: number;
  /** Build-log lines returned in `logs` (default 40). */
  logTail?: number;
  fetch?: typeof fetch;
}

/** What the builder reads from `.dreamnet/build.json`: a static site built by a command. */
export const BUILD_HINT_FILE = '.dreamnet/build.json';

/** The api's config fingerprint (@dreamnet/core fingerprint(); openapi.test.ts checks they agree). */
export const envFingerprint = (v: string) => crypto.createHash('sha256').update(v).digest('hex').slice(0, 12);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class DreamNetNativeProvider implements DeploymentProvider {
  readonly name: DeploymentPlatform = 'dreamnet';
  readonly client: DreamNetClient;
  private readonly o: Required<Omit<ProviderOptions, 'fetch'>>;

  constructor(opts: ProviderOptions) {
    this.client = new DreamNetClient({ url: opts.url, token: opts.token, fetch: opts.fetch });
    this.o = { timeoutMs: 15 * 60_000, pollIntervalMs: 1000, logTail: 40, ...opts };
  }

  async deploy(config: DeploymentConfig): Promise<DeploymentResult> {
    const fail = (error: string, deploymentId?: string, logs?: string[]): DeploymentResult => ({ success: false, platform: this.name, error, deploymentId, logs });
    let app: string;
    try { app = appName(config.projectName); } catch (e) { return fail(message(e)); }
    try {
      await this.ensureApp(app);
      await this.ensureEnv(app, config.environmentVariables ?? {});
      const extra: Record<string, string> = {};
      if (config.outputDirectory) extra[BUILD_HINT_FILE] = JSON.stringify({ buildCommand: config.buildCommand ?? null, outputDirectory: config.outputDirectory }, null, 2) + '\n';
      const { archive, files } = await packDirectory(config.sourceDirectory, extra);
      const queued = await this.client.uploadSource(app, archive, { idempotencyKey: crypto.randomUUID(), description: `deployment-core: ${files.length} files from ${config.sourceDirectory.slice(-80)}` });
      const dep = await this.waitFor(app, queued.id);
      return await this.result(dep);
    } catch (e) {
      return fail(e instanceof DreamNetApiError ? `${e.code}: ${e.message}` : message(e));
    }
  }

  async getStatus(deploymentId: string): Promise<DeploymentResult> {
    try {
      return await this.result(await this.client.getDeployment(deploymentId));
    } catch (e) {
      return { success: false, platform: this.name, deploymentId, error: e instanceof DreamNetApiError ? `${e.code}: ${e.message}` : message(e) };
    }
  }

  /** Every deployment the token may read, newest first. */
  async listDeployments(): Promise<DeploymentResult[]> {
    const deps = await this.client.all((p) => this.client.listDeployments(p));
    const urls = new Map<string, string>();
    for (const a of await this.client.all((p) => this.client.listApps(p))) urls.set(a.name, a.url);
    return deps.map((d) => this.toResult(d, urls.get(d.app)));
  }

  // Beyond the interface.
  async rollback(projectName: string, version: number): Promise<DeploymentResult> {
    const { deployment } = await this.client.rollback(appName(projectName), version);
    return this.result(deployment);
  }
  async logs(deploymentId: string): Promise<string[]> {
    return splitLog((await this.client.getDeployment(deploymentId)).buildLog);
  }
  async delete(projectName: string): Promise<void> {
    await this.client.deleteApp(appName(projectName));
  }

  private async ensureApp(app: string): Promise<void> {
    try { await this.client.getApp(app); return; } catch (e) { if (!(e instanceof DreamNetApiError && e.code === 'APP_NOT_FOUND')) throw e; }
    try { await this.client.createApp(app); } catch (e) { if (!(e instanceof DreamNetApiError && e.code === 'APP_EXISTS')) throw e; }
  }

  /** Sets only what changed (by fingerprint), so an unchanged redeploy makes no extra release. */
  private async ensureEnv(app: string, env: Record<string, string>): Promise<void> {
    const have = new Map((await this.client.listConfig(app)).items.map((i) => [i.key, i.fingerprint]));
    const set = Object.fromEntries(Object.entries(env).filter(([k, v]) => have.get(k) !== envFingerprint(v)));
    if (Object.keys(set).length) await this.client.patchConfig(app, { set });
  }

  private async waitFor(app: string, id: string): Promise<Deployment> {
    const deadline = Date.now() + this.o.timeoutMs;
    for (;;) {
      const d = await this.client.getAppDeployment(app, id);
      if (TERMINAL.includes(d.state)) return d;
      if (Date.now() > deadline) throw new Error(`Deployment ${id} did not finish within ${Math.round(this.o.timeoutMs / 1000)} s (state: ${d.state}).`);
      await new Promise((r) => setTimeout(r, this.o.pollIntervalMs));
    }
  }

  private async result(d: Deployment): Promise<DeploymentResult> {
    const url = d.state === 'failed' ? undefined : await this.client.getApp(d.app).then((a) => a.url, () => undefined);
    const full = d.buildLog === undefined ? await this.client.getAppDeployment(d.app, d.id).catch(() => d) : d;
    return this.toResult(full, url);
  }

  private toResult(d: Deployment, url: string | undefined): DeploymentResult {
    const ok = d.state === 'healthy' || d.state === 'superseded';
    const r: DeploymentResult = { success: ok, platform: this.name, deploymentId: d.id };
    if (ok && url) r.url = url;
    if (d.state === 'failed') r.error = d.reason ?? 'The deployment failed.';
    else if (!ok) r.error = `Deployment is ${d.state}${d.reason ? `: ${d.reason}` : ''}.`;
    if (d.buildLog !== undefined) r.logs = splitLog(d.buildLog).slice(-this.o.logTail);
    return r;
  }
}

function splitLog(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((l) => l !== '');
}
