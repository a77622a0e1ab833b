// The remote BuildService against a stand-in builder over real HTTP: the deployment's signal reaches
// the request, so aborting it (an app deletion) ends the build call and the builder sees its client go
// — which is what makes the real builder stop the engine's build (apps/builder/src/server.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { remoteBuilder } from './builder-client.js';

let server: http.Server | undefined;
afterEach(() => { server?.closeAllConnections(); server?.close(); });

/** A builder that prints one step and then never finishes; `gone` resolves when its client leaves. */
async function stuckBuilder() {
  let left!: () => void;
  const gone = new Promise<void>((r) => { left = r; });
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ type: 'log', line: 'Step 2/3 : RUN sleep 600' }) + '\n');
    });
    res.on('close', () => left());
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, gone };
}

describe('remoteBuilder', () => {
  it('an aborted signal ends the build call and closes the connection to the builder', async () => {
    const b = await stuckBuilder();
    const ac = new AbortController();
    const lines: string[] = [];
    const build = remoteBuilder(b.url, 'tok').build({
      app: 'web', tag: 'd-1', context: Readable.from([Buffer.from('a tar')]), signal: ac.signal,
      onLine: (l) => { lines.push(l); if (l.startsWith('Step 2/3')) ac.abort(new Error('deleted')); },
    });
    await expect(build).rejects.toThrow();
    await b.gone; // the builder saw its client go (this would wait forever otherwise)
    expect(lines).toEqual(['Step 2/3 : RUN sleep 600']);
  });
});
