// Decides how to build a source tree from its root listing and a few file contents. Pure: the caller
// reads the files named in DETECT_FILES and passes them in.
import { DreamError } from '@dreamnet/core';
import { parseProcfile } from './procfile.js';
import { parseHint, type BuildHint } from './hint.js';

export type BuildKind = 'dockerfile' | 'node' | 'static' | 'static-build' | 'python' | 'go' | 'procfile';

/** Files whose contents detection may need (read them if present at the root). */
export const DETECT_FILES = ['package.json', 'Procfile', 'requirements.txt', 'go.mod'] as const;

export interface SourceInfo {
  /** Names of the entries at the root of the source tree. */
  files: readonly string[];
  /** Contents of the DETECT_FILES that exist. */
  contents: Partial<Record<(typeof DETECT_FILES)[number], string>>;
  /** Text of .dreamnet/build.json when present: it wins over detection (it was asked for explicitly). */
  hint?: string;
}

export type BuildPlan =
  | { kind: 'dockerfile' }
  | { kind: 'node'; install: 'ci' | 'install'; manifests: string[]; build: boolean; start: string }
  | { kind: 'static' }
  | { kind: 'static-build'; hint: BuildHint; install: 'ci' | 'install' | null; manifests: string[] }
  | { kind: 'python'; start: string }
  | { kind: 'go'; manifests: string[]; start: string | null }
  | { kind: 'procfile'; start: string };

const LOOKED_FOR = 'a Dockerfile, package.json (Node), requirements.txt (Python), go.mod (Go), index.html (static site) or a Procfile with a web: line';

const fail = (msg: string) => new DreamError('BUILD_FAILED', msg);

function webCommand(info: SourceInfo): string | null {
  const text = info.contents.Procfile;
  if (text === undefined) return null;
  return parseProcfile(text).web ?? null;
}

function nodePlan(info: SourceInfo, has: (f: string) => boolean): BuildPlan {
  let pkg: { scripts?: Record<string, unknown> };
  try {
    pkg = JSON.parse(info.contents['package.json'] ?? '');
    if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) throw new Error('not an object');
  } catch (e) {
    throw fail(`package.json is not valid JSON (${(e as Error).message}). Fix it, or add a Dockerfile.`);
  }
  const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {};
  const script = (name: string) => (typeof scripts[name] === 'string' && (scripts[name] as string).trim() !== '' ? (scripts[name] as string) : null);
  const lock = ['package-lock.json', 'npm-shrinkwrap.json'].filter(has);
  // `npm start` runs `node server.js` when there is no start script; keep that convention.
  const start = script('start') ?? webCommand(info) ?? (has('server.js') ? 'node server.js' : null);
  if (!start) {
    throw fail('package.json has no "start" script and there is no Procfile with a web: line or server.js. Add "scripts": {"start": "node server.js"} to package.json, or add a Dockerfile.');
  }
  return { kind: 'node', install: lock.length > 0 ? 'ci' : 'install', manifests: ['package.json', ...lock], build: script('build') !== null, start };
}

export function detect(info: SourceInfo): BuildPlan {
  const names = new Set(info.files);
  const has = (f: string) => names.has(f);
  if (info.hint !== undefined) {
    const lock = ['package-lock.json', 'npm-shrinkwrap.json'].filter(has);
    return { kind: 'static-build', hint: parseHint(info.hint), install: has('package.json') ? (lock.length ? 'ci' : 'install') : null, manifests: has('package.json') ? ['package.json', ...lock] : [] };
  }
  if (has('Dockerfile')) return { kind: 'dockerfile' };
  if (has('package.json')) return nodePlan(info, has);
  if (has('go.mod')) return { kind: 'go', manifests: ['go.mod', ...(has('go.sum') ? ['go.sum'] : [])], start: webCommand(info) };
  if (has('requirements.txt')) {
    const start = webCommand(info) ?? (has('app.py') ? 'python app.py' : null);
    if (!start) throw fail('Found requirements.txt but no Procfile with a web: line and no app.py. Add a Procfile like "web: gunicorn app:app --bind 0.0.0.0:$PORT", or an app.py, or a Dockerfile.');
    return { kind: 'python', start };
  }
  if (has('index.html')) return { kind: 'static' };
  if (has('Procfile')) {
    const start = webCommand(info);
    if (!start) throw fail('The Procfile has no web: line. Add one like "web: ./server", or add a Dockerfile.');
    return { kind: 'procfile', start };
  }
  throw fail(`Could not tell how to build this app: looked for ${LOOKED_FOR} at the root of the repository and found none. Add a Dockerfile (or one of those files) at the root.`);
}
