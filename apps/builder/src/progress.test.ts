import { describe, expect, it } from 'vitest';
import { BuildOutput } from './progress.js';

function run(chunks: string[]) {
  const lines: string[] = [];
  const out = new BuildOutput((l) => lines.push(l));
  for (const c of chunks) out.push(c);
  out.end();
  return { lines, out };
}

describe('BuildOutput', () => {
  it('splits stream text into lines across JSON messages and chunk boundaries', () => {
    const body = '{"stream":"Step 1/2 : FROM x\\n"}\r\n{"stream":" ---\\u003e abc\\n"}\r\n{"stream":"par"}\r\n{"stream":"tial\\nnext\\n"}\r\n';
    const { lines } = run([body.slice(0, 7), body.slice(7, 40), body.slice(40)]);
    expect(lines).toEqual(['Step 1/2 : FROM x', ' ---> abc', 'partial', 'next']);
  });

  it('records the image id from aux', () => {
    const { out, lines } = run(['{"aux":{"ID":"sha256:abc"}}\n{"stream":"Successfully built abc\\n"}\n']);
    expect(out.imageId).toBe('sha256:abc');
    expect(lines).toEqual(['Successfully built abc']);
  });

  it('reports pull status without progress ticks', () => {
    const { lines } = run(['{"status":"Pulling fs layer","id":"a1"}\n{"status":"Downloading","progress":"[=> ]","id":"a1"}\n{"status":"Digest: sha256:1"}\n']);
    expect(lines).toEqual(['a1: Pulling fs layer', 'Digest: sha256:1']);
  });

  it('names the failing step in the failure sentence', () => {
    const { out, lines } = run([
      '{"stream":"Step 2/3 : RUN false\\n"}\n{"stream":" ---\\u003e Running in 123\\n"}\n',
      '{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c false\' returned a non-zero code: 1"},"error":"The command \'/bin/sh -c false\' returned a non-zero code: 1"}\n',
    ]);
    expect(lines.at(-1)).toBe("ERROR: The command '/bin/sh -c false' returned a non-zero code: 1");
    expect(out.failure()).toBe("Step 2/3 : RUN false failed: The command '/bin/sh -c false' returned a non-zero code: 1");
  });

  it('an error before any step', () => {
    const { out } = run(['{"error":"dockerfile parse error line 1: unknown instruction: FORM"}']);
    expect(out.failure()).toBe('The build failed: dockerfile parse error line 1: unknown instruction: FORM');
  });

  it('passes through non-JSON text and flushes an unterminated line', () => {
    expect(run(['not json\n{"stream":"tail without newline"}']).lines).toEqual(['not json', 'tail without newline']);
  });
});
