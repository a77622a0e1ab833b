import { describe, expect, it } from 'vitest';
import { DreamError } from '@dreamnet/core';
import { detect, type SourceInfo } from './detect.js';

const src = (files: string[], contents: SourceInfo['contents'] = {}): SourceInfo => ({ files, contents });
const pkg = (scripts: Record<string, string> = {}) => JSON.stringify({ name: 'x', scripts });

function failure(info: SourceInfo): DreamError {
  try { detect(info); } catch (e) { return e as DreamError; }
  throw new Error('detect() did not throw');
}

describe('detect', () => {
  it('uses a root Dockerfile as is, even next to package.json', () => {
    expect(detect(src(['Dockerfile', 'package.json'], { 'package.json': pkg() }))).toEqual({ kind: 'dockerfile' });
  });

  it('does not treat a lowercase dockerfile or a nested one as the Dockerfile', () => {
    expect(() => detect(src(['dockerfile', 'docker']))).toThrow(/looked for a Dockerfile/);
  });

  it('node with package-lock.json → npm ci, start script', () => {
    expect(detect(src(['package.json', 'package-lock.json', 'server.js'], { 'package.json': pkg({ start: 'node server.js' }) }))).toEqual({
      kind: 'node', install: 'ci', manifests: ['package.json', 'package-lock.json'], build: false, start: 'node server.js',
    });
  });

  it('node with npm-shrinkwrap.json → npm ci', () => {
    const p = detect(src(['package.json', 'npm-shrinkwrap.json'], { 'package.json': pkg({ start: 'node .' }) }));
    expect(p).toMatchObject({ kind: 'node', install: 'ci', manifests: ['package.json', 'npm-shrinkwrap.json'] });
  });

  it('node without a lock file → npm install', () => {
    expect(detect(src(['package.json'], { 'package.json': pkg({ start: 'node a.js' }) }))).toMatchObject({ install: 'install', manifests: ['package.json'] });
  });

  it('node with a build script builds', () => {
    expect(detect(src(['package.json'], { 'package.json': pkg({ start: 'node dist/a.js', build: 'tsc' }) }))).toMatchObject({ build: true });
  });

  it('node: an empty build script does not count', () => {
    expect(detect(src(['package.json'], { 'package.json': pkg({ start: 'node a.js', build: ' ' }) }))).toMatchObject({ build: false });
  });

  it('node: start script wins over the Procfile', () => {
    const p = detect(src(['package.json', 'Procfile'], { 'package.json': pkg({ start: 'node a.js' }), Procfile: 'web: node b.js\n' }));
    expect(p).toMatchObject({ start: 'node a.js' });
  });

  it('node: falls back to the Procfile web line', () => {
    const p = detect(src(['package.json', 'Procfile'], { 'package.json': pkg(), Procfile: 'worker: node w.js\nweb: node web.js\n' }));
    expect(p).toMatchObject({ kind: 'node', start: 'node web.js' });
  });

  it('node: falls back to server.js like npm start does', () => {
    expect(detect(src(['package.json', 'server.js'], { 'package.json': pkg() }))).toMatchObject({ start: 'node server.js' });
  });

  it('node: no way to start → BUILD_FAILED naming the fix', () => {
    const e = failure(src(['package.json', 'index.js'], { 'package.json': pkg({ test: 'x' }) }));
    expect(e.code).toBe('BUILD_FAILED');
    expect(e.message).toMatch(/no "start" script/);
    expect(e.message).toMatch(/add a Dockerfile/);
  });

  it('node: invalid package.json → BUILD_FAILED', () => {
    expect(failure(src(['package.json'], { 'package.json': '{oops' })).message).toMatch(/package.json is not valid JSON/);
    expect(failure(src(['package.json'], { 'package.json': '[1]' })).message).toMatch(/not valid JSON \(not an object\)/);
  });

  it('static: index.html and no package.json', () => {
    expect(detect(src(['index.html', 'style.css']))).toEqual({ kind: 'static' });
  });

  it('index.html next to package.json is a node app', () => {
    expect(detect(src(['index.html', 'package.json'], { 'package.json': pkg({ start: 'vite preview' }) }))).toMatchObject({ kind: 'node' });
  });

  it('python with a Procfile web line', () => {
    const p = detect(src(['requirements.txt', 'Procfile', 'app.py'], { 'requirements.txt': 'flask\n', Procfile: 'web: gunicorn app:app\n' }));
    expect(p).toEqual({ kind: 'python', start: 'gunicorn app:app' });
  });

  it('python with app.py only', () => {
    expect(detect(src(['requirements.txt', 'app.py'], { 'requirements.txt': '' }))).toEqual({ kind: 'python', start: 'python app.py' });
  });

  it('python without a way to start → BUILD_FAILED', () => {
    expect(failure(src(['requirements.txt', 'main.py'], { 'requirements.txt': '' })).message).toMatch(/no Procfile with a web: line and no app.py/);
  });

  it('go with go.sum', () => {
    expect(detect(src(['go.mod', 'go.sum', 'main.go'], { 'go.mod': 'module x\n' }))).toEqual({ kind: 'go', manifests: ['go.mod', 'go.sum'], start: null });
  });

  it('go without go.sum, with a Procfile', () => {
    expect(detect(src(['go.mod', 'Procfile'], { 'go.mod': 'module x\n', Procfile: 'web: /app/app -port $PORT' }))).toEqual({
      kind: 'go', manifests: ['go.mod'], start: '/app/app -port $PORT',
    });
  });

  it('procfile only', () => {
    expect(detect(src(['Procfile', 'run.sh'], { Procfile: '# comment\n\nweb: ./run.sh\n' }))).toEqual({ kind: 'procfile', start: './run.sh' });
  });

  it('procfile without web → BUILD_FAILED', () => {
    expect(failure(src(['Procfile'], { Procfile: 'worker: ./w\n' })).message).toMatch(/no web: line/);
  });

  it('nothing recognisable → BUILD_FAILED listing what it looked for', () => {
    const e = failure(src(['README.md', 'src']));
    expect(e).toBeInstanceOf(DreamError);
    expect(e.code).toBe('BUILD_FAILED');
    expect(e.message).toBe(
      'Could not tell how to build this app: looked for a Dockerfile, package.json (Node), requirements.txt (Python), go.mod (Go), index.html (static site) or a Procfile with a web: line at the root of the repository and found none. Add a Dockerfile (or one of those files) at the root.',
    );
  });

  it('empty tree → BUILD_FAILED', () => {
    expect(failure(src([])).code).toBe('BUILD_FAILED');
  });
});
