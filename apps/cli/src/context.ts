// What every command handler gets: its arguments, the combined settings, a lazily made api client
// and the output streams. main.ts builds it from the real process; tests can build their own.
import type { Flags } from './args.js';
import { DreamClient } from './client.js';
import type { Settings } from './config-file.js';
import { CliError } from './errors.js';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  now: () => Date;
  /** The local terminal, when stdout is one: colours, the size of `dream shell`, SIGWINCH. */
  tty?: Terminal;
}

export interface Terminal {
  size(): { cols: number; rows: number };
  /** Calls `fn` when the window changes size; returns the unsubscribe. */
  onResize(fn: () => void): () => void;
}

export interface Context {
  command: string;
  args: string[];
  flags: Flags;
  io: Io;
  settings: Settings;
  /** Path of the saved credentials file. */
  configFile: string;
  /** A client with the token; fails with "log in first" when there is none. */
  client(): DreamClient;
  /** A line for humans on stdout (suppressed under --json). */
  say(line?: string): void;
  /** Prints a value as JSON on stdout under --json; returns whether it did. */
  json(value: unknown): boolean;
}

/** Resolves with the exit code when it is not simply 0 (`dream run` passes the remote one on). */
export type Handler = (ctx: Context) => Promise<void | number>;

export function makeContext(command: string, args: string[], flags: Flags, io: Io, settings: Settings, configFile: string): Context {
  let client: DreamClient | undefined;
  return {
    command, args, flags, io, settings, configFile,
    client() {
      if (!settings.token) {
        throw new CliError(
          `You are not logged in (no token in --token, DREAM_TOKEN or ${configFile}).`,
          'Log in with `dream login --token "$(cat data/admin-token)"` (the admin token `npm start` saved in its data directory).',
        );
      }
      client ??= new DreamClient({ url: settings.url, token: settings.token, urlSource: settings.urlSource, command });
      return client;
    },
    say(line = '') {
      if (!flags.json) io.stdout(`${line}\n`);
    },
    json(value) {
      if (!flags.json) return false;
      io.stdout(`${JSON.stringify(value ?? null, null, 2)}\n`);
      return true;
    },
  };
}
