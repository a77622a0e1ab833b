// Procfile parsing (Heroku format): one `name: command` per line, `#` comments and blank lines skipped.
// Pure; the builder only ever uses the `web` process.

export type Procfile = Record<string, string>;

const LINE = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/;

export function parseProcfile(text: string): Procfile {
  const out: Procfile = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    // First definition wins, like Heroku's parser.
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!.trim();
  }
  return out;
}
