// Where `dream trust install` puts the .dream root besides the system store. On Linux, Chrome,
// Chromium and Firefox do not read /etc/ssl/certs: they trust roots from their own NSS databases
// (Chrome's ~/.pki/nssdb, one per Firefox profile), as mkcert knows. Commands as data (argv), no I/O
// here but the look-ups passed in.
import path from 'node:path';

/** The name the root has in an NSS database (certutil -n): found again, replaced on a re-install. */
export const NSS_NICKNAME = 'DreamNet .dream root';

export interface NssDatabase { browser: string; dir: string }

export interface Look {
  /** Whether a file exists. */
  exists(file: string): boolean;
  /** The entries of a folder, [] when it does not exist. */
  list(dir: string): string[];
}

// Firefox from Debian/Mozilla, and the snap (Ubuntu's default).
const FIREFOX_ROOTS = ['.mozilla/firefox', 'snap/firefox/common/.mozilla/firefox'];

/** The NSS databases (sql format: cert9.db) of the browsers of the user whose home is `home`. */
export function nssDatabases(home: string, look: Look): NssDatabase[] {
  const out: NssDatabase[] = [];
  const chrome = path.join(home, '.pki/nssdb');
  if (look.exists(path.join(chrome, 'cert9.db'))) out.push({ browser: 'Chrome/Chromium', dir: chrome });
  for (const root of FIREFOX_ROOTS) {
    for (const profile of look.list(path.join(home, root)).sort()) {
      const dir = path.join(home, root, profile);
      if (look.exists(path.join(dir, 'cert9.db'))) out.push({ browser: `Firefox (profile ${profile})`, dir });
    }
  }
  return out;
}

/**
 * certutil argv: remove a root added before (a reinstalled platform has a new one; certutil would
 * otherwise keep both under one nickname), then add this one as a CA trusted for TLS servers (C,,).
 */
export function certutilSteps(db: string, pemFile: string): string[][] {
  return [
    ['-D', '-d', `sql:${db}`, '-n', NSS_NICKNAME],
    ['-A', '-d', `sql:${db}`, '-n', NSS_NICKNAME, '-t', 'C,,', '-i', pemFile],
  ];
}
