// Packs a source directory into a tar.gz the way `git push` would send it: .gitignore and
// .dreamignore (at any depth) are honoured, `.git` and `node_modules` are never sent (the build
// installs dependencies). Symlinks are kept as links; the api rejects ones that lead outside.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as tar from 'tar-stream';
import { ignored, parseIgnore, type Rule } from './ignore.js';

export const ALWAYS_IGNORED = ['.git/', 'node_modules/'];
const IGNORE_FILES = ['.gitignore', '.dreamignore'];

export interface PackResult { archive: Buffer; files: string[] }

/** The files that would be sent, relative to `dir`, in walk order. */
export function listSource(dir: string): { rel: string; abs: string; stat: fs.Stats }[] {
  const out: { rel: string; abs: string; stat: fs.Stats }[] = [];
  const walk = (absDir: string, relDir: string, inherited: Rule[]) => {
    let rules = inherited;
    for (const f of IGNORE_FILES) {
      const p = path.join(absDir, f);
      if (fs.existsSync(p) && fs.lstatSync(p).isFile()) rules = [...rules, ...parseIgnore(fs.readFileSync(p, 'utf8'), relDir)];
    }
    for (const name of fs.readdirSync(absDir).sort()) {
      const abs = path.join(absDir, name);
      const rel = relDir ? `${relDir}/${name}` : name;
      const stat = fs.lstatSync(abs);
      if (ignored(rules, rel, stat.isDirectory())) continue;
      if (stat.isDirectory()) { out.push({ rel, abs, stat }); walk(abs, rel, rules); }
      else if (stat.isFile() || stat.isSymbolicLink()) out.push({ rel, abs, stat });
    }
  };
  walk(path.resolve(dir), '', parseIgnore(ALWAYS_IGNORED.join('\n')));
  return out;
}

/** tar.gz of `dir` plus `extra` files (path → content, replacing any file of that path). */
export async function packDirectory(dir: string, extra: Record<string, string> = {}): Promise<PackResult> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`sourceDirectory ${dir} is not a directory`);
  const pack = tar.pack();
  const gz = pack.pipe(zlib.createGzip());
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => { gz.on('end', resolve); gz.on('error', reject); pack.on('error', reject); });
  const entry = (h: Partial<tar.Header> & { name: string }, data?: Buffer) => new Promise<void>((resolve, reject) => {
    const cb = (err?: unknown) => (err ? reject(err) : resolve());
    if (data) pack.entry(h as tar.Header, data, cb); else pack.entry(h as tar.Header, cb);
  });
  const files: string[] = [];
  const extraDirs = new Set(Object.keys(extra).flatMap((p) => p.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
  for (const f of listSource(dir)) {
    if (f.rel in extra || (extraDirs.has(f.rel) && !f.stat.isDirectory())) continue;
    const mtime = f.stat.mtime;
    if (f.stat.isDirectory()) await entry({ name: `${f.rel}/`, type: 'directory', mode: 0o755, mtime });
    else if (f.stat.isSymbolicLink()) await entry({ name: f.rel, type: 'symlink', linkname: fs.readlinkSync(f.abs), mode: 0o777, mtime });
    else { await entry({ name: f.rel, type: 'file', mode: f.stat.mode & 0o111 ? 0o755 : 0o644, mtime }, fs.readFileSync(f.abs)); files.push(f.rel); }
  }
  for (const d of [...extraDirs].sort()) if (!fs.existsSync(path.join(dir, d))) await entry({ name: `${d}/`, type: 'directory', mode: 0o755 });
  for (const [rel, text] of Object.entries(extra)) { await entry({ name: rel, type: 'file', mode: 0o644 }, Buffer.from(text)); files.push(rel); }
  pack.finalize();
  await done;
  return { archive: Buffer.concat(chunks), files };
}
