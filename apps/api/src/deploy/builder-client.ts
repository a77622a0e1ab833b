import { requestBuild } from '@dreamnet/builder';
import type { BuildService } from './types.js';

/** The BuildService backed by the builder process over HTTP (docs/architecture.md). */
export function remoteBuilder(url: string, token: string): BuildService {
  return { build: (req) => requestBuild({ url, token, ...req }) };
}
