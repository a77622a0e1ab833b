// Reading a token from stdin: all of it when piped, or typed without echo on a terminal.

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a TTY in raw mode so the secret never appears on screen. */
export function readHidden(
  stdin: NodeJS.ReadableStream & { setRawMode?: (on: boolean) => unknown },
  write: (s: string) => void,
  prompt: string,
): Promise<string> {
  write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      write('\n');
      if (err) reject(err); else resolve(value);
    };
    const onData = (buf: Buffer | string) => {
      for (const ch of buf.toString()) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new Error('Cancelled.'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}
