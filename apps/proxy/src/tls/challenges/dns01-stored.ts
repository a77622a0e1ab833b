// The DNS-01 records stored on the data dir (tls/dns01/, one file per name, written by whichever
// process orders), as one snapshot the `.dream` DNS answers from. Re-read only when the folder
// changed: every write there is a rename into it and every cleanup an unlink, and both move the
// folder's mtime. Before, each query for a name that does not exist read the whole folder (and
// then its files) synchronously on worker 0's event loop, which serves HTTP too: a flood of
// queries for random names cost a readdir each. Now it costs one stat.
import fs from 'node:fs';
import type { TlsStorage } from '../storage.js';

// The folder's mtime comes from the kernel's coarse clock (a tick of 1-10 ms), so two changes
// within one tick leave it equal. A snapshot read that soon after the last change is not trusted
// and is read again next time (git's "racy" index entries, the same problem).
const RACY_MS = 50;

export class StoredRecords {
  private stamp = '';
  private records = new Map<string, string[]>();
  constructor(private readonly storage: TlsStorage, private readonly safeName: RegExp) {}

  /** Name → TXT values, for every stored name with at least one value. */
  current(): ReadonlyMap<string, string[]> {
    try {
      const st = fs.statSync(this.storage.file('dns01'), { throwIfNoEntry: false });
      if (!st) return this.keep('', new Map());
      const stamp = `${st.ino}:${st.mtimeMs}`;
      if (stamp === this.stamp) return this.records;
      const records = new Map<string, string[]>();
      for (const n of this.storage.list('dns01')) {
        const values = this.safeName.test(n) ? read(this.storage, n) : [];
        if (values.length) records.set(n, values);
      }
      return this.keep(Date.now() - st.mtimeMs > RACY_MS ? stamp : '', records);
    } catch {
      // An unreadable folder answers as an empty one (the DNS must not fail), and is tried again.
      return this.keep('', new Map());
    }
  }

  private keep(stamp: string, records: Map<string, string[]>): Map<string, string[]> {
    this.stamp = stamp;
    this.records = records;
    return records;
  }
}

function read(storage: TlsStorage, name: string): string[] {
  try {
    const stored = JSON.parse(storage.read(`dns01/${name}`) ?? '[]') as unknown;
    return Array.isArray(stored) ? stored.filter((v): v is string => typeof v === 'string') : [];
  } catch { return []; }
}
