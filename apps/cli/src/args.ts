// Pure argv parsing: argv (without node and the script) → { command, positionals, flags }.
// Anything the parser cannot make sense of is a UsageError (exit code 2) naming what is valid.
import { BOOL_FLAGS, COMMANDS, GLOBAL_FLAGS, VALUE_FLAGS, findSpec, usageLine, type BoolFlag, type CommandSpec, type FlagName, type ValueFlag } from './catalog.js';

export interface Flags {
  json: boolean;
  help: boolean;
  url?: string;
  token?: string;
  branch?: string;
  confirm?: string;
  out?: string;
  'key-file'?: string;
  scope?: string;
  apps?: string;
  'without-key'?: boolean;
  replace?: boolean;
  tail?: string;
  since?: string;
  replica?: string;
  follow?: boolean;
  build?: boolean;
  detach?: boolean;
  move?: boolean;
}

export interface Parsed {
  /** A catalog name ("apps create"), or "help" when no command was given. */
  command: string;
  positionals: string[];
  flags: Flags;
  /** Whatever followed a bare `--`, verbatim (also the tail of `positionals`); undefined without `--`. */
  passthrough?: string[];
}

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly usage: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const SHORT: Record<string, FlagName> = { '-h': 'help', '-f': 'follow' };

function flagList(names: readonly FlagName[]): string {
  return names.map((n) => `--${n}`).join(', ');
}

/** Usage lines of every command that starts with the given first word (or all of them). */
export function usageFor(first?: string): string {
  const specs = COMMANDS.filter((c) => !first || c.name.split(' ')[0] === first);
  return (specs.length ? specs : COMMANDS).map((s) => `  ${usageLine(s)}`).join('\n');
}

function splitTokens(argv: readonly string[]): { words: string[]; flags: Flags; seen: FlagName[]; passthrough?: string[] } {
  const flags: Flags = { json: false, help: false };
  const words: string[] = [];
  const seen: FlagName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    // Everything after `--` is data (config keys, the argv of `dream run`), never our flags.
    if (tok === '--') { const passthrough = argv.slice(i + 1); words.push(...passthrough); return { words, flags, seen, passthrough }; }
    if (!tok.startsWith('-') || tok === '-') { words.push(tok); continue; }
    const eq = tok.indexOf('=');
    const rawName = eq > 0 && tok.startsWith('--') ? tok.slice(0, eq) : tok;
    const name: string | undefined = SHORT[rawName] ?? (rawName.startsWith('--') ? rawName.slice(2) : undefined);
    if ((BOOL_FLAGS as readonly string[]).includes(name ?? '')) {
      if (eq > 0 && tok.startsWith('--')) throw new UsageError(`${rawName} does not take a value.`, usageFor());
      flags[name as BoolFlag] = true;
      seen.push(name as BoolFlag);
    } else if ((VALUE_FLAGS as readonly string[]).includes(name ?? '')) {
      let value: string | undefined;
      if (eq > 0) value = tok.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${rawName} needs a value, e.g. ${rawName}=VALUE.`, usageFor());
      flags[name as ValueFlag] = value;
      seen.push(name as ValueFlag);
    } else {
      const dashdash = words[0] === 'run' ? ' To pass flags to the command of `dream run`, put it after `--`: `dream run APP -- CMD --flag`.' : '';
      throw new UsageError(`Unknown flag ${rawName}. Valid flags: ${flagList([...GLOBAL_FLAGS, ...VALUE_FLAGS.filter((f) => !GLOBAL_FLAGS.includes(f))])}.${dashdash}`, usageFor());
    }
  }
  return { words, flags, seen };
}

/** The longest catalog command whose words start the word list. */
function resolve(words: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const n of [2, 1]) {
    const spec = words.length >= n ? findSpec(words.slice(0, n).join(' ')) : undefined;
    if (spec) return { spec, rest: words.slice(n) };
  }
  return undefined;
}

function checkArity(spec: CommandSpec, rest: string[]): void {
  const variadic = [...spec.args, ...(spec.optional ?? [])].at(-1)?.endsWith('…') ?? false;
  const min = spec.args.length;
  const max = variadic ? Infinity : min + (spec.optional?.length ?? 0);
  if (rest.length >= min && rest.length <= max) return;
  const first = spec.name.split(' ')[0]!;
  const subcommands = COMMANDS.some((c) => c.name.startsWith(`${first} `));
  const msg = rest.length > max && min === 0 && subcommands
    ? `Unknown command \`dream ${first} ${rest[0]}\`.`
    : rest.length < min
      ? `\`dream ${spec.name}\` needs ${spec.args.slice(rest.length).join(' ')}.`
      : `\`dream ${spec.name}\` takes ${min === max ? min : `${min}-${max}`} argument${max === 1 ? '' : 's'}, got ${rest.length}.`;
  throw new UsageError(msg, usageFor(first));
}

export function parseArgs(argv: readonly string[]): Parsed {
  const { words, flags, seen, passthrough } = splitTokens(argv);
  if (words.length === 0) return { command: 'help', positionals: [], flags };
  const found = resolve(words);
  if (!found) {
    const commands = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]))].join(', ');
    throw new UsageError(`Unknown command \`${words[0]}\`. Commands: ${commands}.`, usageFor());
  }
  const { spec, rest } = found;
  const allowed: FlagName[] = [...GLOBAL_FLAGS, ...spec.flags];
  const bad = seen.find((f) => !allowed.includes(f));
  if (bad) throw new UsageError(`\`dream ${spec.name}\` does not take --${bad}. Valid flags: ${flagList(allowed)}.`, usageFor(spec.name.split(' ')[0]));
  // `dream apps create --help` wants help, not an arity complaint.
  if (flags.help) return { command: 'help', positionals: [spec.name], flags };
  checkArity(spec, rest);
  return { command: spec.name, positionals: rest, flags, ...(passthrough ? { passthrough } : {}) };
}
