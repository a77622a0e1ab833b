import { describe, expect, it } from 'vitest';
import { detect } from './detect.js';
import { generateDockerfile } from './dockerfile.js';
import { parseHint } from './hint.js';

const images = { baseImageNode: 'dreamnet/node:20', baseImagePython: 'p', baseImageGo: 'g', baseImageGoRuntime: 'r' };

describe('.dreamnet/build.json hint', () => {
  it('accepts a build command and a relative output directory', () => {
    expect(parseHint('{"buildCommand":"npm run build","outputDirectory":"./dist/"}')).toEqual({ buildCommand: 'npm run build', outputDirectory: 'dist' });
    expect(parseHint('{"buildCommand":null,"outputDirectory":"build/site"}').outputDirectory).toBe('build/site');
  });
  it.each(['../etc', '/abs', 'a/../../b', 'dist with space', 'dist\nRUN x', '', '.'])('refuses outputDirectory %j', (out) => {
    expect(() => parseHint(JSON.stringify({ buildCommand: 'x', outputDirectory: out }))).toThrow(/outputDirectory/);
  });
  it('refuses non-JSON and empty commands', () => {
    expect(() => parseHint('nope')).toThrow(/not JSON/);
    expect(() => parseHint('{"buildCommand":"  ","outputDirectory":"dist"}')).toThrow(/buildCommand/);
  });
  it('wins over detection and builds in one stage, serves only the output from the next', () => {
    const plan = detect({ files: ['package.json', 'package-lock.json', 'Dockerfile'], contents: { 'package.json': '{}' }, hint: '{"buildCommand":"npm run build\\nRUN evil","outputDirectory":"dist"}' });
    expect(plan.kind).toBe('static-build');
    const text = generateDockerfile(plan, images)!;
    const lines = text.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('FROM '))).toEqual(['FROM dreamnet/node:20 AS build', 'FROM dreamnet/node:20']);
    expect(text).toContain('RUN npm ci --no-audit --no-fund --include=dev');
    // The command stays one JSON argument: a newline in it cannot start a Dockerfile instruction.
    expect(lines.filter((l) => l.startsWith('RUN evil'))).toEqual([]);
    expect(text).toContain('COPY --from=build --chown=10001:10001 /app/dist/ /srv/www/');
    expect(lines.at(-1)).toBe('CMD ["node","/srv/static-server.mjs","/srv/www"]');
  });
  it('without package.json skips the install', () => {
    const plan = detect({ files: ['build.sh'], contents: {}, hint: '{"buildCommand":"sh build.sh","outputDirectory":"out"}' });
    expect(generateDockerfile(plan, images)).not.toContain('npm');
  });
});
