// A Dockerode client without the two parts of dockerode that load at require time but that the
// platform never uses: gRPC + protobuf (dockerode/lib/session.js, BuildKit sessions) and ssh2
// (docker-modem/lib/ssh.js, ssh:// engines; it also allocates a 16 MB WebAssembly heap). Together
// they are ~11 MB of every idle api and builder. They are not removed: the module cache is seeded
// with stand-ins that load the real module on first call, so behaviour is the same if they are used.
import { createRequire } from 'node:module';
import path from 'node:path';
import type Dockerode from 'dockerode';

const require = createRequire(import.meta.url);

type Loaded = { exports: unknown; loaded: boolean; filename: string; id: string; paths: string[]; children: unknown[] };

/** Puts a function stand-in for `file` into require's cache; the real module loads on the first call. */
function deferFunctionModule(file: string): void {
  if (require.cache[file]) return;
  let real: ((...a: unknown[]) => unknown) | undefined;
  const load = () => {
    if (!real) {
      if (require.cache[file] === stub) delete require.cache[file];
      real = require(file) as (...a: unknown[]) => unknown;
    }
    return real;
  };
  const stub: Loaded = {
    id: file, filename: file, loaded: true, paths: [], children: [],
    exports: function deferred(this: unknown, ...args: unknown[]) { return load().apply(this, args); },
  };
  require.cache[file] = stub as unknown as NodeJS.Module;
}

let Docker: typeof Dockerode | undefined;

function loadDockerode(): typeof Dockerode {
  if (Docker) return Docker;
  const dockerodeMain = require.resolve('dockerode');
  // Only when dockerode is not loaded yet (a test may have imported it directly): then nothing is saved.
  if (!require.cache[dockerodeMain]) {
    const dockerodeDir = path.dirname(dockerodeMain);
    const modemMain = createRequire(dockerodeMain).resolve('docker-modem');
    deferFunctionModule(path.join(dockerodeDir, 'session.js'));
    deferFunctionModule(path.join(path.dirname(modemMain), 'ssh.js'));
  }
  Docker = require('dockerode') as typeof Dockerode;
  return Docker;
}

/** A client of the engine at a unix socket. */
export function dockerClient(socketPath: string): Dockerode {
  return new (loadDockerode())({ socketPath });
}
