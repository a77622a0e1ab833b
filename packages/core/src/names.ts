// Allow-lists for every name that reaches a path, a label, a container name or a git command. Pure and
// importable on its own (`@dreamnet/core/names`): the SDK and the CLI use it without the rest of core.
import { DreamError } from './errors.js';

export const APP_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const CONFIG_KEY = /^[A-Z_][A-Z0-9_]{0,127}$/;
// A conservative subset of git-check-ref-format: no leading dash (so it can never be read as an
// option), no "..", no control characters or the characters git forbids.
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)(?!.*\.lock$)(?!.*\/$)(?!.*\.$)[A-Za-z0-9._\/-]{1,200}$/;

export function assertAppName(name: string): string {
  if (typeof name !== 'string' || !APP_NAME.test(name)) throw new DreamError('INVALID_APP_NAME');
  return name;
}

// Names the allow-list admits but a new app may not take, with why. ns: ns.dream is the .dream zone's
// own name server (the SOA's primary and the NS target), answered by the edge; an app there would
// share that name with the zone's delegation data. The one list: the api refuses these, the SDK's
// appName() never derives them and the CLI's hint names them (all import it from here).
export const RESERVED_APP_NAMES: Readonly<Record<string, string>> = Object.freeze({ ns: 'ns.dream is the .dream zone\'s name server' });

/** Why a new app may not take this name, or undefined when it may. */
export function reservedAppName(name: string): string | undefined {
  return Object.hasOwn(RESERVED_APP_NAMES, name) ? RESERVED_APP_NAMES[name] : undefined;
}

/** For creating an app only: an app made before its name was reserved stays addressable (readable,
 * deletable) through assertAppName. */
export function assertNewAppName(name: string): string {
  assertAppName(name);
  const why = reservedAppName(name);
  if (why) throw new DreamError('INVALID_APP_NAME', `"${name}" is reserved (${why}); choose another app name.`);
  return name;
}

export function assertConfigKey(key: string): string {
  if (typeof key !== 'string' || !CONFIG_KEY.test(key)) throw new DreamError('INVALID_CONFIG_KEY', `"${String(key).slice(0, 64)}" is not a valid config key. Keys must match ^[A-Z_][A-Z0-9_]{0,127}$.`);
  return key;
}

export function isBranchName(name: string): boolean {
  return typeof name === 'string' && BRANCH.test(name);
}

export function assertBranchName(name: string): string {
  if (!isBranchName(name)) throw new DreamError('INVALID_REF', `"${String(name).slice(0, 64)}" is not an allowed branch name.`);
  return name;
}
