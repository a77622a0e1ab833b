import { describe, expect, it } from 'vitest';
import { secretMasker } from './mask.js';

describe('secretMasker', () => {
  it('masks every occurrence of each secret, longest first, and leaves short values alone', () => {
    const m = secretMasker(['hunter22', 'hunter22-extra', 'true', 'abc']);
    expect(m('pw=hunter22-extra and hunter22 true abc')).toBe('pw=**** and **** true abc');
    expect(m('nothing here')).toBe('nothing here');
  });
});
