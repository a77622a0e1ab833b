import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ignored, parseIgnore } from './ignore.js';
import { appName } from './names.js';
import { packDirectory } from './pack.js';

describe('ignore rules', () => {
  const rules = parseIgnore('# c\n*.log\n!keep.log\n/build\ndist/\ndocs/**/*.tmp\nsecret?.txt\n');
  it.each([
    ['a.log', false, true], ['sub/a.log', false, true], ['keep.log', false, false], ['build', true, true], ['sub/build', true, false],
    ['dist', true, true], ['dist', false, false], ['docs/x/y/z.tmp', false, true], ['docs/z.tmp', false, true], ['secret1.txt', false, true], ['secret12.txt', false, false],
  ])('%s (dir %s) ignored: %s', (p, dir, want) => expect(ignored(rules, p as string, dir as boolean)).toBe(want));
  it('nested files apply below their directory only', () => {
    const nested = parseIgnore('*.md', 'pkg');
    expect(ignored(nested, 'pkg/a.md', false)).toBe(true);
    expect(ignored(nested, 'a.md', false)).toBe(false);
  });
});

describe('appName', () => {
  it.each([['My Site', 'my-site'], ['provider_api', 'provider-api'], ['  Café  Déjà ', 'cafe-deja'], ['123go', 'app-123go'], ['x'.repeat(80), 'x'.repeat(63)]])('%s → %s', (a, b) => expect(appName(a)).toBe(b));
  it('refuses names with nothing usable', () => expect(() => appName('!!!')).toThrow(/no letters/));
});

describe('packDirectory', () => {
  it('honours .gitignore and .dreamignore at any depth, skips .git and node_modules, adds extra files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dream-sdk-pack-'));
    const w = (f: string, t = 'x') => { fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true }); fs.writeFileSync(path.join(dir, f), t); };
    w('index.html'); w('.gitignore', 'secret.txt\n'); w('secret.txt'); w('.dreamignore', 'big/\n'); w('big/blob'); w('.git/HEAD'); w('node_modules/x/index.js');
    w('src/.gitignore', '*.gen.js\n'); w('src/a.js'); w('src/b.gen.js'); w('.dreamnet/build.json', 'old');
    fs.symlinkSync('index.html', path.join(dir, 'home.html'));
    const { archive } = await packDirectory(dir, { '.dreamnet/build.json': '{"outputDirectory":"dist"}' });
    const names: Record<string, string> = {};
    const extract = tar.extract();
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (h, s, next) => { let b = ''; s.on('data', (c: unknown) => { b += String(c); }); s.on('end', () => { names[h.name] = h.type === 'symlink' ? `-> ${h.linkname}` : b; next(); }); });
      extract.on('finish', resolve); extract.on('error', reject);
      extract.end(zlib.gunzipSync(archive));
    });
    expect(Object.keys(names).filter((n) => !n.endsWith('/')).sort()).toEqual(['.dreamignore', '.dreamnet/build.json', '.gitignore', 'home.html', 'index.html', 'src/.gitignore', 'src/a.js']);
    expect(names['.dreamnet/build.json']).toBe('{"outputDirectory":"dist"}');
    expect(names['home.html']).toBe('-> index.html');
  });
});
