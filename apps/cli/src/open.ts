// Opening a URL in the user's browser with xdg-open, started by argv (never a shell string).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The first executable `name` on PATH, or undefined. */
export function which(name: string, env: Record<string, string | undefined>): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return undefined;
}

/** Resolves true once xdg-open started; false when there is none. Never throws. */
export function openUrl(url: string, env: Record<string, string | undefined>): Promise<boolean> {
  // Only web URLs: xdg-open would happily run a file: or custom-scheme handler from a hostile api.
  if (!/^https?:\/\//i.test(url)) return Promise.resolve(false);
  const bin = which('xdg-open', env);
  if (!bin) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(bin, [url], { stdio: 'ignore', detached: true, env: env as NodeJS.ProcessEnv });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
