import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_FORMAT, readCachedRoutes, saveCachedRoutes } from './cache.js';

const dirs: string[] = [];
const file = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-cache-')); dirs.push(d); return path.join(d, 'proxy', 'routes.json'); };
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });
const snap = { version: 7, routes: [{ app: 'a', hosts: ['a.dream'], endpoints: [{ host: '10.0.0.1', port: 5000 }] }] };

describe('route cache file', () => {
  it('is written with its format and read back whole', async () => {
    const f = file();
    await saveCachedRoutes(f, snap);
    expect(JSON.parse(fs.readFileSync(f, 'utf8'))).toEqual({ format: CACHE_FORMAT, ...snap });
    expect(await readCachedRoutes(f)).toEqual({ snapshot: snap });
  });

  it("writes the api's own JSON for the table as it came, with the format first, and reads it back whole", async () => {
    const f = file();
    const apiText = `  ${JSON.stringify(snap, null, 1)}\n`;
    await saveCachedRoutes(f, snap, apiText);
    expect(fs.readFileSync(f, 'utf8')).toBe(`{"format":${CACHE_FORMAT},${JSON.stringify(snap, null, 1).slice(1)}\n`);
    expect(await readCachedRoutes(f)).toEqual({ snapshot: snap });
  });

  it('reads a file an older proxy wrote (no format); says there is none when missing', async () => {
    const f = file();
    expect(await readCachedRoutes(f)).toEqual({ none: true });
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, JSON.stringify(snap));
    expect(await readCachedRoutes(f)).toEqual({ snapshot: snap });
  });

  it('refuses a damaged file, one with a broken entry, and one another format, saying why', async () => {
    const f = file();
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const cases: Array<[string, RegExp]> = [
      ['{"version": 7, "rou', /^it is not JSON \(.*\), e\.g\. cut short$/],
      ['null', /^it is not a route table \(not an object\)$/],
      [JSON.stringify({ format: 2, ...snap }), /^a newer proxy wrote it \(format 2; this one reads format 1\)$/],
      [JSON.stringify({ format: 'v1', ...snap }), /^its format "v1" is unknown/],
      [JSON.stringify({ version: 7, routes: [...snap.routes, { app: 'b', hosts: ['b.dream'], endpoints: [{ host: '', port: 1 }] }] }), /^1 of its entries cannot be read \(entry 1, app b: endpoint .* is not \{host, port\}\)$/],
    ];
    for (const [text, why] of cases) {
      fs.writeFileSync(f, text);
      const r = await readCachedRoutes(f);
      expect('unusable' in r && r.unusable, text).toMatch(why);
    }
  });
});
