// Fetches one pushed commit from a repository URL into a private temp repository, with simple-git
// (argv only; `--` before the URL) and git itself limited to the allow-listed protocols.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { simpleGit } from 'simple-git';
import { DreamError } from '@dreamnet/core';
import { SHA } from './repo-url.js';

export interface FetchedCommit { sha: string; archive: () => Readable; cleanup: () => void }

export async function fetchCommit(url: string, branch: string, sha: string, schemes: string[]): Promise<FetchedCommit> {
  if (!SHA.test(sha)) throw new DreamError('VALIDATION_FAILED', 'The pushed commit is not a full hexadecimal sha.');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-hook-'));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: schemes.join(':'), GIT_CONFIG_NOSYSTEM: '1' };
  // simple-git guards GIT_* variables; these four only restrict git further.
  const git = simpleGit({ baseDir: dir, timeout: { block: 120_000 }, allowEnvironment: Object.keys(env).filter((k) => k.startsWith('GIT_')) }).env(env);
  try {
    await git.init(true);
    await git.raw(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, `+refs/heads/${branch}:refs/dream/fetched`]);
    const head = (await git.revparse(['refs/dream/fetched'])).trim();
    // The branch moved on since this push: fetch the pushed commit itself.
    if (head !== sha) await git.raw(['fetch', '--quiet', '--no-tags', '--depth', '1', '--', url, sha]);
    await git.raw(['cat-file', '-e', `${sha}^{commit}`]);
  } catch (e) {
    cleanup();
    throw new DreamError('FETCH_FAILED', `Fetching ${sha.slice(0, 12)} of branch ${branch} from ${url} failed: ${(e as Error).message.split('\n')[0]}`);
  }
  return {
    sha,
    archive: () => spawn('git', ['archive', '--format=tar', sha], { cwd: dir, env, stdio: ['ignore', 'pipe', 'ignore'] }).stdout!,
    cleanup,
  };
}
