// Help text, generated from the catalog.
import { COMMANDS, usageLine } from './catalog.js';

export function helpText(topic?: string): string {
  const specs = topic ? COMMANDS.filter((c) => c.name === topic || c.name.startsWith(`${topic} `)) : COMMANDS;
  const shown = specs.length ? specs : COMMANDS;
  const lines = shown.map((s) => [usageLine(s), s.summary] as const);
  const w = Math.max(...lines.map(([u]) => u.length));
  const body = lines.map(([u, s]) => `  ${u.padEnd(w)}  ${s}`).join('\n');
  return [
    topic && specs.length ? `Usage:` : 'dream — the DreamNet Platform command line.\n\nUsage:',
    body,
    '',
    'Flags for every command:',
    '  --json         print the api\'s JSON instead of text',
    '  --url URL      api address (default: saved by `dream login`, DREAM_URL, or http://127.0.0.1:7070)',
    '  --token TOKEN  api token (default: saved by `dream login`, or DREAM_TOKEN)',
    '  --help, -h     show help',
    '',
    topic ? 'All commands: `dream help`.' : 'Start with `dream login`, then `dream apps create NAME`.',
  ].join('\n');
}
