// The whole CLI as a function: argv + io in, exit code out. main.ts wires it to the real process.
import { parseArgs, UsageError } from './args.js';
import { configPath, readCredentials, resolveSettings } from './config-file.js';
import { makeContext, type Handler, type Io } from './context.js';
import { ApiError, CliError } from './errors.js';
import { helpText } from './help.js';
import { adminCommands } from './commands/admin.js';
import { appsCommands } from './commands/apps.js';
import { authCommands } from './commands/auth.js';
import { configCommands } from './commands/config.js';
import { domainsCommands } from './commands/domains.js';
import { trustCommands } from './commands/trust.js';
import { opsCommands } from './commands/ops.js';
import { releaseCommands } from './commands/releases.js';
import { tokenCommands } from './commands/tokens.js';
import { logsCommands } from './commands/logs.js';
import { shellCommands } from './commands/shell.js';
import { runCommands } from './commands/run.js';

export const HANDLERS: Record<string, Handler> = {
  ...authCommands, ...appsCommands, ...configCommands, ...domainsCommands, ...trustCommands, ...releaseCommands, ...opsCommands, ...adminCommands, ...tokenCommands,
  ...logsCommands, ...shellCommands, ...runCommands,
};

export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    const parsed = parseArgs(argv);
    if (parsed.command === 'help') {
      io.stdout(`${helpText(parsed.positionals.join(' ') || undefined)}\n`);
      return 0;
    }
    const handler = HANDLERS[parsed.command];
    if (!handler) throw new CliError(`\`dream ${parsed.command}\` is not implemented.`);
    const file = configPath(io.env);
    const saved = await readCredentials(file);
    const settings = resolveSettings(parsed.flags, io.env, saved);
    const code = await handler(makeContext(parsed.command, parsed.positionals, parsed.flags, io, settings, file));
    return code ?? 0;
  } catch (e) {
    return report(e, io);
  }
}

function report(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.stderr(`Error: ${e.message}\n\nUsage:\n${e.usage}\n\nMore: \`dream help\`.\n`);
    return e.exitCode;
  }
  if (e instanceof CliError) {
    const lines = [`Error: ${e.message}`];
    if (e.hint && !alreadySaid(e.message, e.hint)) lines.push(`Next: ${e.hint}`);
    if (e instanceof ApiError && e.requestId && e.status >= 500) lines.push(`(request id: ${e.requestId})`);
    io.stderr(`${lines.join('\n')}\n`);
    return e.exitCode;
  }
  // Not one of ours: say what it was without a stack trace, which the user cannot act on.
  io.stderr(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  return 1;
}

/** The api's messages often carry their own next step; don't repeat a command it already names. */
export function alreadySaid(message: string, hint: string): boolean {
  if (message.includes(hint)) return true;
  const commands = [...hint.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
  return commands.some((c) => message.includes(c));
}
