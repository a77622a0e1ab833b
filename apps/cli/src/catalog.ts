// Every command the CLI knows: its words, arguments, own flags and one-line summary. Pure data, so
// the parser, the help text and the README all agree.

export type ValueFlag = 'url' | 'token' | 'branch' | 'confirm' | 'out' | 'key-file' | 'scope' | 'apps' | 'tail' | 'since' | 'replica';
export type BoolFlag = 'json' | 'help' | 'without-key' | 'replace' | 'follow' | 'build' | 'detach' | 'move';
export type FlagName = ValueFlag | BoolFlag;

export interface CommandSpec {
  /** Command words, e.g. "apps create". */
  name: string;
  /** Argument placeholders; a trailing "…" means "one or more". */
  args: string[];
  /** Optional trailing arguments (placeholders only, for the usage line). */
  optional?: string[];
  /** Flags beyond the global ones. */
  flags: FlagName[];
  summary: string;
}

export const VALUE_FLAGS: readonly ValueFlag[] = ['url', 'token', 'branch', 'confirm', 'out', 'key-file', 'scope', 'apps', 'tail', 'since', 'replica'];
export const BOOL_FLAGS: readonly BoolFlag[] = ['json', 'help', 'without-key', 'replace', 'follow', 'build', 'detach', 'move'];
/** Accepted by every command. */
export const GLOBAL_FLAGS: readonly FlagName[] = ['json', 'url', 'token', 'help'];

export const COMMANDS: readonly CommandSpec[] = [
  { name: 'login', args: [], flags: [], summary: 'Save the api URL and token (token from --token, stdin or a prompt).' },
  { name: 'logout', args: [], flags: [], summary: 'Forget the saved token.' },
  { name: 'whoami', args: [], flags: [], summary: 'Show who the saved token belongs to.' },
  { name: 'apps', args: [], flags: [], summary: 'List apps.' },
  { name: 'apps list', args: [], flags: [], summary: 'List apps.' },
  { name: 'apps create', args: ['NAME'], flags: ['branch'], summary: 'Create an app (--branch B: the branch that deploys, default main).' },
  { name: 'apps info', args: ['NAME'], flags: [], summary: 'Show an app: URL, git remote, settings, release, health.' },
  { name: 'apps set', args: ['NAME', 'KEY=VALUE…'], flags: [], summary: 'Change an app\'s settings: health-check-path=/healthz, max-request-body=50m (0: no limit), request-buffering=on|off, deploy-branch=B; KEY=default goes back to the platform\'s default.' },
  { name: 'apps delete', args: ['NAME'], flags: ['confirm'], summary: 'Delete an app and everything it runs (needs --confirm NAME).' },
  { name: 'config', args: ['APP'], flags: [], summary: 'List config keys of an app (values are never shown).' },
  { name: 'config list', args: ['APP'], flags: [], summary: 'List config keys of an app (values are never shown).' },
  { name: 'config set', args: ['APP', 'KEY=VALUE…'], flags: [], summary: 'Set config values; makes a new release.' },
  { name: 'config unset', args: ['APP', 'KEY…'], flags: [], summary: 'Remove config keys; makes a new release.' },
  { name: 'releases', args: ['APP'], flags: [], summary: 'List releases of an app.' },
  { name: 'deployments', args: ['APP'], flags: [], summary: 'List deployments of an app.' },
  { name: 'deployments list', args: ['APP'], flags: [], summary: 'List deployments of an app.' },
  { name: 'deployments info', args: ['APP', 'ID'], flags: [], summary: 'Show a deployment: state, events and build log.' },
  { name: 'rollback', args: ['APP', 'VERSION'], flags: [], summary: 'Deploy a copy of an earlier release (e.g. 3 or v3).' },
  { name: 'scale', args: ['APP', 'N'], flags: [], summary: 'Run N replicas of an app.' },
  { name: 'restart', args: ['APP'], flags: [], summary: 'Restart every replica of an app.' },
  { name: 'url', args: ['APP'], flags: [], summary: 'Print the URL of an app.' },
  { name: 'open', args: ['APP'], flags: [], summary: 'Print the URL of an app and open it in a browser.' },
  { name: 'admin backup', args: [], flags: ['out', 'without-key'], summary: 'Download a backup of the whole platform into one file (--out FILE; --without-key leaves the encryption key out).' },
  { name: 'admin restore', args: ['FILE'], flags: ['key-file', 'replace'], summary: 'Restore a backup into a fresh install (--key-file K for a backup made --without-key; --replace replaces existing apps).' },
  { name: 'tokens', args: [], flags: [], summary: 'List API tokens: scope, apps, last use (never their secrets).' },
  { name: 'tokens list', args: [], flags: [], summary: 'List API tokens: scope, apps, last use (never their secrets).' },
  { name: 'tokens create', args: ['NAME'], flags: ['scope', 'apps'], summary: 'Create a token (--scope read|deploy|admin, default deploy; --apps a,b limits it); prints the secret once.' },
  { name: 'tokens revoke', args: ['ID'], flags: [], summary: 'Revoke a token; it stops working at once.' },
  { name: 'logs', args: ['APP'], flags: ['follow', 'tail', 'since', 'build', 'replica'], summary: 'Show log lines of an app (-f/--follow keeps streaming and reconnects; --tail N, default 100; --since 10m|CURSOR|TIME; --build: build output; --replica N or a run id).' },
  { name: 'shell', args: ['APP'], flags: ['replica'], summary: 'Open an interactive shell in a running replica (--replica N, default the first); exits with its exit code.' },
  { name: 'run', args: ['APP', 'CMD…'], flags: ['detach'], summary: 'Run a one-off command in a new container of the current release: `dream run APP -- npm run migrate` (exit code passed back; --detach prints an id to follow with `dream logs`).' },
  { name: 'domains', args: ['APP'], flags: [], summary: 'List the names an app is served at, with certificate state (issued/renewing/failing and the CA\'s reason).' },
  { name: 'domains list', args: ['APP'], flags: [], summary: 'List the names an app is served at, with certificate state.' },
  { name: 'domains add', args: ['APP', 'HOST'], flags: ['move'], summary: 'Serve an app at your own domain too; its certificate is ordered automatically (--move: take it from the app that has it, with no moment where neither serves it).' },
  { name: 'domains remove', args: ['APP', 'HOST'], flags: [], summary: 'Stop serving an app at a custom domain.' },
  { name: 'trust', args: [], flags: [], summary: 'Print the .dream root certificate (import it once and every app is trusted).' },
  { name: 'trust install', args: [], flags: [], summary: 'As root on Debian/Ubuntu: add the .dream root to the system store (update-ca-certificates) and to Chrome\'s and Firefox\'s own stores (NSS, with certutil) of the user running sudo.' },
  { name: 'help', args: [], optional: ['COMMAND…'], flags: [], summary: 'Show help for all commands or one.' },
];

export function findSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

const PLACEHOLDER: Partial<Record<FlagName, string>> = { tail: 'N', since: 'WHEN', replica: 'N' };

/** "dream apps create NAME [--branch B]" */
export function usageLine(spec: CommandSpec): string {
  const parts = ['dream', spec.name, ...spec.args, ...(spec.optional ?? []).map((a) => `[${a}]`)];
  for (const f of spec.flags) parts.push(f === 'confirm' ? '--confirm NAME' : (BOOL_FLAGS as readonly string[]).includes(f) ? `[--${f}]` : `[--${f} ${PLACEHOLDER[f] ?? f.toUpperCase().slice(0, 1)}]`);
  // `dream run APP -- CMD…`: the separator keeps the command's own flags away from ours.
  if (spec.name === 'run') parts.splice(parts.indexOf('CMD…'), 0, '--');
  return parts.join(' ');
}
