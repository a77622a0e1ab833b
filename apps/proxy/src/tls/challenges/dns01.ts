// DNS-01: TXT records at _acme-challenge.<name>, served by the built-in `.dream` DNS while an
// order is in flight. This is what makes a wildcard (*.dream) certificate possible. Only names the
// platform's DNS is authoritative for can be solved this way. Records are kept in memory and in
// storage, like HTTP-01 tokens: with several proxy workers only one serves the DNS, and the order
// may come from another.
import type { TlsStorage } from '../storage.js';
import { StoredRecords } from './dns01-stored.js';
import type { ChallengeSolver } from './types.js';

const SAFE_NAME = /^[a-z0-9_][a-z0-9_.-]{0,252}$/;

export function challengeName(name: string): string {
  return `_acme-challenge.${name.replace(/^\*\./, '')}`.toLowerCase();
}

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01' as const;
  // Several values may coexist (example.dream and *.example.dream in one order share the name).
  private readonly records = new Map<string, string[]>();
  // What every process on the data dir presented (this one's too), re-read when the folder changes.
  private readonly stored?: StoredRecords;
  constructor(private readonly storage?: TlsStorage) {
    if (storage) this.stored = new StoredRecords(storage, SAFE_NAME);
  }

  async present(name: string, _token: string, digest: string): Promise<void> {
    this.set(challengeName(name), [...this.txt(challengeName(name)), digest]);
  }

  async cleanup(name: string, _token: string, digest: string): Promise<void> {
    const n = challengeName(name);
    this.set(n, this.txt(n).filter((v) => v !== digest));
  }

  /** TXT values for a fully qualified name (no trailing dot), [] when none. */
  txt(fqdn: string): string[] {
    const n = fqdn.toLowerCase().replace(/\.$/, '');
    const mine = this.records.get(n);
    if (mine) return mine;
    return this.stored?.current().get(n) ?? [];
  }

  /**
   * True when some name strictly below `name` has TXT values (x.b.dream and b.dream for
   * _acme-challenge.x.b.dream): such a name exists as an empty non-terminal even where nothing is
   * served. Another process's records count too, like in txt().
   */
  hasBelow(name: string): boolean {
    const suffix = `.${name.toLowerCase().replace(/\.$/, '')}`;
    for (const n of this.records.keys()) if (n.endsWith(suffix)) return true;
    if (!this.stored) return false;
    for (const n of this.stored.current().keys()) if (n.endsWith(suffix)) return true;
    return false;
  }

  private set(n: string, values: string[]): void {
    if (values.length) this.records.set(n, values); else this.records.delete(n);
    if (!this.storage || !SAFE_NAME.test(n)) return;
    if (values.length) this.storage.write(`dns01/${n}`, JSON.stringify(values));
    else this.storage.remove(`dns01/${n}`);
  }
}
