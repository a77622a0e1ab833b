// Bare repositories, one per app, under <dataDir>/git. git itself speaks the protocol (receive-pack /
// upload-pack in --stateless-rpc mode, spawned with argv); our pre-receive hook builds and deploys.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertAppName, hashToken } from '@dreamnet/core';

export const HOOKS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../hooks');

export class GitService {
  private readonly pushes = new Map<string, { app: string; expires: number }>();

  constructor(readonly root: string) {}

  dir(app: string): string {
    return path.join(this.root, `${assertAppName(app)}.git`);
  }

  /** Creates the bare repository (idempotent) wired to our hooks. */
  init(app: string): string {
    const dir = this.dir(app);
    if (!fs.existsSync(path.join(dir, 'HEAD'))) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.git(['init', '--bare', '--quiet', dir]);
    }
    this.git(['--git-dir', dir, 'config', 'core.hooksPath', HOOKS_DIR]);
    return dir;
  }

  remove(app: string): void {
    fs.rmSync(this.dir(app), { recursive: true, force: true });
  }

  /** A one-time credential the pre-receive hook presents to call back into the api. */
  issuePushToken(app: string): string {
    const token = crypto.randomBytes(24).toString('base64url');
    this.pushes.set(hashToken(token), { app, expires: Date.now() + 6 * 3600_000 });
    return token;
  }

  /** The app a hook token was issued for, or undefined. */
  pushTokenApp(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const p = this.pushes.get(hashToken(token));
    if (!p || p.expires < Date.now()) return undefined;
    return p.app;
  }

  revokePushToken(token: string): void {
    this.pushes.delete(hashToken(token));
  }

  private git(args: string[]): void {
    const r = spawnSync('git', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr || r.error?.message}`);
  }
}
