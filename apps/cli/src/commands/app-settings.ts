// Pure: the KEY=VALUE arguments of `dream apps set` → the PATCH /v1/apps/:app body, and an app's
// settings → text. Every value is checked here, before any api call, so a typo changes nothing.
import type { App, AppChange } from '../api-types.js';
import { CliError } from '../errors.js';

export const SETTING_KEYS = ['health-check-path', 'max-request-body', 'request-buffering', 'deploy-branch'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

const DEFAULT = 'platform default';
const EXAMPLE = 'For example: `dream apps set my-app max-request-body=50m request-buffering=off`.';

const LABEL: Record<SettingKey, string> = {
  'health-check-path': 'Health check path',
  'max-request-body': 'Max request body',
  'request-buffering': 'Request buffering',
  'deploy-branch': 'Deploy branch',
};

// Binary, as nginx reads client_max_body_size: 1k = 1024 bytes.
const UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function refuse(message: string, hint: string): CliError {
  return new CliError(message, hint, 2);
}

/** "1048576", "512k", "50m", "1G" → bytes; 0 means no limit. */
export function parseSize(text: string, key = 'max-request-body'): number {
  const m = /^(\d+)([kmg])?$/i.exec(text);
  const hint = `Use bytes such as \`${key}=1048576\`, or k, m or g (1k = 1024 bytes) such as \`${key}=50m\`; \`${key}=0\` for no limit, \`${key}=default\` for the platform's default.`;
  if (!m) throw refuse(`"${text}" is not a size for ${key}.`, hint);
  const bytes = Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()]! : 1);
  if (!Number.isSafeInteger(bytes)) throw refuse(`"${text}" is too large for ${key}.`, hint);
  return bytes;
}

/** on/off, true/false (any case). */
export function parseOnOff(text: string, key = 'request-buffering'): boolean {
  const t = text.toLowerCase();
  if (t === 'on' || t === 'true') return true;
  if (t === 'off' || t === 'false') return false;
  throw refuse(`"${text}" is not on or off for ${key}.`, `Use \`${key}=on\` or \`${key}=off\` (or true/false); \`${key}=default\` for the platform's default.`);
}

/** One KEY=VALUE argument → its part of the api body; "default" or "" → null where the api has a default. */
function parseSetting(arg: string): { key: SettingKey; change: AppChange } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw refuse(`Expected KEY=VALUE, got "${arg}".`, `Settings: ${SETTING_KEYS.join(', ')}. ${EXAMPLE}`);
  const name = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  const key = SETTING_KEYS.find((k) => k === name);
  if (!key) throw refuse(`Unknown setting "${name}". Settings: ${SETTING_KEYS.join(', ')}.`, EXAMPLE);
  const byDefault = value === '' || value.toLowerCase() === 'default';
  switch (key) {
    // The api has no null branch; and "default" may well be a branch's name.
    case 'deploy-branch':
      if (!value) throw refuse('deploy-branch needs a branch name.', 'E.g. `deploy-branch=main` or `deploy-branch=production`.');
      return { key, change: { deployBranch: value } };
    case 'max-request-body': return { key, change: { maxRequestBody: byDefault ? null : parseSize(value, key) } };
    case 'request-buffering': return { key, change: { requestBuffering: byDefault ? null : parseOnOff(value, key) } };
    case 'health-check-path':
      if (!byDefault && !value.startsWith('/')) {
        throw refuse(`"${value}" is not a path for health-check-path: it must start with "/".`, 'E.g. `health-check-path=/healthz`; `health-check-path=default` checks GET / (any answer below 500 is healthy).');
      }
      return { key, change: { healthCheckPath: byDefault ? null : value } };
  }
}

/** All arguments → one PATCH body and the keys it sets, in the order given (a repeated key: the last wins). */
export function parseSettings(args: readonly string[]): { keys: SettingKey[]; change: AppChange } {
  const keys: SettingKey[] = [];
  let change: AppChange = {};
  for (const arg of args) {
    const one = parseSetting(arg);
    if (!keys.includes(one.key)) keys.push(one.key);
    change = { ...change, ...one.change };
  }
  return { keys, change };
}

/** "50 MiB (52428800 bytes)", "no limit", "platform default"; "-" when the api did not say (an older api). */
export function sizeText(bytes: number | null | undefined): string {
  if (bytes === undefined) return '-';
  if (bytes === null) return DEFAULT;
  if (bytes === 0) return 'no limit';
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const [unit, size] = bytes >= UNITS.g! ? ['GiB', UNITS.g!] : bytes >= UNITS.m! ? ['MiB', UNITS.m!] : ['KiB', UNITS.k!];
  const n = bytes / size;
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${unit} (${bytes} bytes)`;
}

export function onOffText(on: boolean | null | undefined): string {
  if (on === undefined) return '-';
  return on === null ? DEFAULT : on ? 'on' : 'off';
}

function valueText(a: App, key: SettingKey): string {
  switch (key) {
    case 'health-check-path': return a.healthCheckPath === undefined ? '-' : a.healthCheckPath ?? `${DEFAULT} (GET /, any answer below 500)`;
    case 'max-request-body': return sizeText(a.maxRequestBody);
    case 'request-buffering': return onOffText(a.requestBuffering);
    case 'deploy-branch': return a.deployBranch;
  }
}

/** Label/value rows of the given settings (all by default), in a fixed order, for keyValues(). */
export function settingRows(a: App, keys: readonly SettingKey[] = SETTING_KEYS): [string, string][] {
  const order: readonly SettingKey[] = ['deploy-branch', 'health-check-path', 'max-request-body', 'request-buffering'];
  return order.filter((k) => keys.includes(k)).map((k) => [LABEL[k], valueText(a, k)]);
}
