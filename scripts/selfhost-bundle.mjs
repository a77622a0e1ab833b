// Bundles each platform entry (api, builder, proxy) into one ESM file beside its main.ts, with the
// workspace's TypeScript compiled in and npm packages left external. The image runs these with
// plain `node`: no tsx loader and no esbuild service process at run time, which is most of the
// idle memory of a process. Plain JS: it runs in the image's build stage.
//   node scripts/selfhost-bundle.mjs            → apps/{api,builder,proxy}/src/main.mjs
// bench/proxy imports bundle() to measure the proxy as the image runs it.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROLES = ['api', 'builder', 'proxy'];
const entryOf = (role) => path.join(root, 'apps', role, 'src', 'main.ts');
const ENTRIES = ROLES.map(entryOf);

/** npm packages stay external (native better-sqlite3, node-pty…); workspace packages are bundled. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@dreamnet/') || args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
    // Every module keeps its own import.meta.url (paths like ../../hooks are relative to the source
    // file), except the entry, whose "am I the main module" check must see the bundle's own URL.
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const fs = await import('node:fs/promises');
      let contents = await fs.readFile(args.path, 'utf8');
      if (!ENTRIES.includes(args.path)) contents = contents.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Bundles one role's main.ts into `outfile` (default: main.mjs beside it). The file must lie inside
 * this repository: its npm imports resolve from the node_modules above it.
 */
export async function bundle(role, outfile) {
  const entry = entryOf(role);
  await build({
    entryPoints: [entry], outfile: outfile ?? entry.replace(/\.ts$/, '.mjs'), bundle: true, platform: 'node', format: 'esm',
    target: 'node20', sourcemap: true, plugins: [externals], logLevel: 'warning',
    // Bundled CommonJS helpers may call require(); give ESM output one.
    banner: { js: "import { createRequire as __dreamRequire } from 'node:module'; const require = __dreamRequire(import.meta.url);" },
  });
  return entry;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const role of ROLES) console.log(`bundled ${path.relative(root, await bundle(role))}`);
}
