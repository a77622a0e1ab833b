import { describe, expect, it } from 'vitest';
import { certutilSteps, NSS_NICKNAME, nssDatabases } from './trust-stores.js';

// A home as a set of files: Chrome's database, two Firefox profiles (one never started: no cert9.db), the snap's.
const files = new Set([
  '/home/u/.pki/nssdb/cert9.db',
  '/home/u/.mozilla/firefox/b2.default-release/cert9.db',
  '/home/u/.mozilla/firefox/a1.default/cert9.db',
  '/home/u/snap/firefox/common/.mozilla/firefox/s9.default/cert9.db',
]);
const look = {
  exists: (f: string) => files.has(f),
  list: (d: string) => [...new Set([...files].filter((f) => f.startsWith(`${d}/`)).map((f) => f.slice(d.length + 1).split('/')[0]!))].concat(d.endsWith('.mozilla/firefox') && d.startsWith('/home/u/.m') ? ['profiles.ini', 'c3.unused'] : []),
};

describe('nssDatabases', () => {
  it('Chrome\'s ~/.pki/nssdb and every Firefox profile with a cert9.db, the snap\'s too', () => {
    expect(nssDatabases('/home/u', look)).toEqual([
      { browser: 'Chrome/Chromium', dir: '/home/u/.pki/nssdb' },
      { browser: 'Firefox (profile a1.default)', dir: '/home/u/.mozilla/firefox/a1.default' },
      { browser: 'Firefox (profile b2.default-release)', dir: '/home/u/.mozilla/firefox/b2.default-release' },
      { browser: 'Firefox (profile s9.default)', dir: '/home/u/snap/firefox/common/.mozilla/firefox/s9.default' },
    ]);
  });

  it('nothing for a home without browsers', () => {
    expect(nssDatabases('/home/nobody', look)).toEqual([]);
  });
});

describe('certutilSteps', () => {
  it('removes a root of an earlier install, then adds this one trusted for TLS servers', () => {
    expect(certutilSteps('/home/u/.pki/nssdb', '/usr/local/share/ca-certificates/dreamnet-dream-root.crt').map((a) => a.join(' '))).toEqual([
      `-D -d sql:/home/u/.pki/nssdb -n ${NSS_NICKNAME}`,
      `-A -d sql:/home/u/.pki/nssdb -n ${NSS_NICKNAME} -t C,, -i /usr/local/share/ca-certificates/dreamnet-dream-root.crt`,
    ]);
  });
});
