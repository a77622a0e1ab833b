#!/usr/bin/env node
// `dream` CLI: load the TypeScript sources through tsx (no build step), then run.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
