// `.dreamnet/build.json`: an explicit build hint (written by the deployment-core provider for
// `buildCommand` + `outputDirectory`): a static site built by a command and served from a directory.
// Pure: the file's text in, a validated hint out (or a BUILD_FAILED naming the problem).
import { DreamError } from '@dreamnet/core';

export const HINT_FILE = '.dreamnet/build.json';

export interface BuildHint { buildCommand: string | null; outputDirectory: string }

const OUTPUT_DIR = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

export function parseHint(text: string): BuildHint {
  const fail = (why: string) => new DreamError('BUILD_FAILED', `${HINT_FILE} is not valid: ${why}.`);
  let v: { buildCommand?: unknown; outputDirectory?: unknown };
  try { v = JSON.parse(text); } catch (e) { throw fail(`not JSON (${(e as Error).message})`); }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail('expected an object');
  const cmd = v.buildCommand ?? null;
  if (cmd !== null && (typeof cmd !== 'string' || cmd.trim() === '' || cmd.length > 1000)) throw fail('"buildCommand" must be a non-empty string of at most 1000 characters, or null');
  const out = typeof v.outputDirectory === 'string' ? v.outputDirectory.replace(/^\.\//, '').replace(/\/+$/, '') : null;
  if (out === null || !OUTPUT_DIR.test(out) || out.split('/').includes('..')) {
    throw fail('"outputDirectory" must be a relative path inside the project such as "dist" or "build/site" (letters, digits, . _ -)');
  }
  return { buildCommand: cmd as string | null, outputDirectory: out };
}
