// Where the CLI keeps its credentials, and how flags, environment and that file combine.
// Order: --url/--token flags, then DREAM_URL/DREAM_TOKEN, then the saved file, then the default URL.
import { mkdir, readFile, rename, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const DEFAULT_URL = 'http://127.0.0.1:7070';

export interface SavedCredentials {
  url?: string;
  token?: string;
}

export interface Settings {
  url: string;
  token?: string;
  /** Where `url` came from, so errors can say which knob to turn. */
  urlSource: 'flag' | 'env' | 'file' | 'default';
  tokenSource?: 'flag' | 'env' | 'file';
}

type Env = Record<string, string | undefined>;

export function configPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'dream', 'config.json');
}

export async function readCredentials(file: string): Promise<SavedCredentials> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object') return {};
    const { url, token } = v as Record<string, unknown>;
    return { url: typeof url === 'string' ? url : undefined, token: typeof token === 'string' ? token : undefined };
  } catch {
    throw new Error(`${file} is not valid JSON. Fix it or delete it and run \`dream login\` again.`);
  }
}

/** Writes the file with mode 0600 (directory 0700) via a temp file, so a reader never sees half. */
export async function writeCredentials(file: string, creds: SavedCredentials): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  // mode on writeFile is filtered by the umask; chmod makes 0600 exact.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** Returns true if there was a file to remove. */
export async function removeCredentials(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** Pure: combine the three sources. */
export function resolveSettings(flags: { url?: string; token?: string }, env: Env, saved: SavedCredentials): Settings {
  const url = flags.url ? { v: flags.url, s: 'flag' as const }
    : env.DREAM_URL ? { v: env.DREAM_URL, s: 'env' as const }
      : saved.url ? { v: saved.url, s: 'file' as const }
        : { v: DEFAULT_URL, s: 'default' as const };
  const token = flags.token ? { v: flags.token, s: 'flag' as const }
    : env.DREAM_TOKEN ? { v: env.DREAM_TOKEN, s: 'env' as const }
      : saved.token ? { v: saved.token, s: 'file' as const }
        : undefined;
  return { url: url.v.replace(/\/+$/, ''), urlSource: url.s, token: token?.v, tokenSource: token?.s };
}
