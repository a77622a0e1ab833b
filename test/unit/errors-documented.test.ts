import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '@dreamnet/core';
import { PROXY_ERRORS } from '../../apps/proxy/src/pages.js';
import { PROXY_STARTUP_ERRORS } from '../../apps/proxy/src/startup-errors.js';
import { PROXY_WARNINGS } from '../../apps/proxy/src/operator-warnings.js';

const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
// The api's codes come first; the proxy's own pages have their section, then what stops it at
// start-up, then what it warns about while running.
const [apiDoc, rest = ''] = doc.split(/^## The proxy$/m);
const [proxyDoc, afterProxy = ''] = rest.split(/^## The proxy at start-up$/m);
const [startupDoc, runningDoc = ''] = afterProxy.split(/^## The proxy while running$/m);
const codesIn = (text: string) => [...text.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]).sort();

describe.each([
  ['api', apiDoc!, Object.fromEntries(Object.entries(ERRORS).map(([code, { status }]) => [code, status]))],
  ['proxy', proxyDoc, PROXY_ERRORS as Record<string, number>],
])('error catalogue (%s)', (_part, text, codes) => {
  it.each(Object.entries(codes))('%s is documented in docs/errors.md with its HTTP status', (code, status) => {
    expect(text).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\| [^|]{10,}\\|`));
  });
  it('documents no code that does not exist', () => {
    expect(codesIn(text)).toEqual(Object.keys(codes).sort());
  });
});

describe('error catalogue (proxy start-up)', () => {
  it.each(Object.keys(PROXY_STARTUP_ERRORS))('%s is documented in docs/errors.md with when and what to do', (code) => {
    expect(startupDoc).toMatch(new RegExp(`\\| \`${code}\` \\| [^|]{10,}\\| [^|]{10,}\\|`));
  });
  it('documents no code that does not exist', () => {
    expect(codesIn(startupDoc)).toEqual(Object.keys(PROXY_STARTUP_ERRORS).sort());
  });
});

describe('error catalogue (proxy while running)', () => {
  it.each(Object.keys(PROXY_WARNINGS))('%s is documented in docs/errors.md with when and what to do', (code) => {
    expect(runningDoc).toMatch(new RegExp(`\\| \`${code}\` \\| [^|]{10,}\\| [^|]{10,}\\|`));
  });
  it('documents no code that does not exist', () => {
    expect(codesIn(runningDoc)).toEqual(Object.keys(PROXY_WARNINGS).sort());
  });
});
