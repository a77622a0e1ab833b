// `npm install` runs this (apps/proxy's install script): compiles the handover's addon with the
// node-gyp npm ships. Without a compiler (python3, make, g++) the proxy still installs and runs;
// only its handover falls back to release-and-bind (a few milliseconds without a listener), and
// this says so instead of failing the whole install.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: dir, stdio: 'inherit' })
  : { status: 1, error: new Error('npm did not say where its node-gyp is (npm_config_node_gyp)') };
if (r.status !== 0) {
  console.warn(`warning: the proxy's descriptor-passing addon was not built (${r.error?.message ?? `node-gyp exited ${r.status}`}); `
    + 'install python3, make and g++ and run `npm rebuild @dreamnet/proxy` for proxy replacements without a moment refusing connections.');
}
