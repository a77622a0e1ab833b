// The client subpath only: the package index would load the builder's own server (dockerode, tar-fs).
import { requestBuild } from '@dreamnet/builder/client';
import type { BuildService } from './types.js';

/**
 * The BuildService backed by the builder process over HTTP (docs/architecture.md). An aborted
 * `signal` closes the request; the builder sees its client go and stops the engine's build.
 */
export function remoteBuilder(url: string, token: string): BuildService {
  return { build: ({ app, tag, context, onLine, signal }) => requestBuild({ url, token, app, tag, context, onLine, signal }) };
}
