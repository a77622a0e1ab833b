// Copies packages (and their whole dependency closure, optional ones included when present) from
// one node_modules into another, where missing. The image uses it to keep tsx after `npm prune
// --omit=dev`. Plain JS: it runs before tsx is available. Usage: node keep-deps.mjs FROM TO PKG…
import fs from 'node:fs';
import path from 'node:path';

const [from, to, ...wanted] = process.argv.slice(2);
if (!from || !to || wanted.length === 0) { console.error('usage: selfhost-keep-deps.mjs FROM TO PKG…'); process.exit(2); }
const seen = new Set();
const queue = [...wanted];
while (queue.length) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  seen.add(name);
  const src = path.join(from, name);
  if (!fs.existsSync(path.join(src, 'package.json'))) continue; // an optional dep for another platform
  const dst = path.join(to, name);
  if (!fs.existsSync(dst)) fs.cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
  queue.push(...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}));
}
// Binaries of kept packages (e.g. node_modules/.bin/tsx).
for (const name of wanted) {
  const pkg = JSON.parse(fs.readFileSync(path.join(from, name, 'package.json'), 'utf8'));
  const bins = typeof pkg.bin === 'string' ? { [name]: pkg.bin } : pkg.bin ?? {};
  fs.mkdirSync(path.join(to, '.bin'), { recursive: true });
  for (const [bin, rel] of Object.entries(bins)) {
    const link = path.join(to, '.bin', bin);
    if (!fs.existsSync(link)) fs.symlinkSync(path.join('..', name, rel), link);
  }
}
console.log(`kept ${[...seen].filter((n) => fs.existsSync(path.join(to, n))).join(', ')}`);
