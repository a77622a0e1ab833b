// The client subpath only: the package index would load the builder's own server (dockerode, tar-fs).
import { requestBuild } from '@dreamnet/builder/client';
import type { BuildService } from './types.js';

/** The BuildService backed by the builder process over HTTP (docs/architecture.md). */
export function remoteBuilder(url: string, token: string): BuildService {
  return { build: (req) => requestBuild({ url, token, ...req }) };
}
