// The names the manager serves: the hosts ensure()/change() were last given (each its Entry), what
// the DNS asks of them (serves(), servesBelow()), and which of them still wait for their stored pair
// to be read (stored-loader.ts). Kept apart from the manager's ordering and renewing so that a name's
// coming, going and being read is one piece: a name is added once, read once (in the background, or
// at once when a handshake wants it first), and a name that went is never started by a late read.
import type { Entry } from './entry.js';
import type { Issuer } from './issuer.js';
import { StoredLoader } from './stored-loader.js';

export interface ServedNamesOptions {
  /** Which issuer serves a name; undefined = never served (IP literals, localhost…). */
  issuerFor(host: string): Issuer | undefined;
  /** Called for a new name's issuer before its storage is read, so a pair stored later is seen (siblings.ts). */
  watch(issuerId: string): void;
  /** Reads one name's stored pair and backoff (synchronous: stored-loader.ts times its slices around it). */
  load(e: Entry): void;
  /** Names just read that are still served (start what is due); `done` once nothing is left unread. */
  read(es: Entry[], done: boolean): void;
}

export const normal = (host: string) => host.toLowerCase().replace(/\.$/, '');
/** The wildcard name that would cover `name` ('' when it has no parent). */
const wildcardAbove = (name: string) => { const dot = name.indexOf('.'); return dot > 0 ? `*.${name.slice(dot + 1)}` : ''; };

export class ServedNames {
  private readonly entries = new Map<string, Entry>();
  /** Names added whose stored pair and backoff are not read yet. */
  private readonly loader: StoredLoader<Entry>;

  constructor(private readonly o: ServedNamesOptions) {
    // A name removed while its slice was being read is not started: only the served entry counts.
    this.loader = new StoredLoader<Entry>({ load: o.load, read: (es, done) => o.read(es.filter((e) => this.entries.get(e.host) === e), done) });
  }

  /**
   * Serves `added` too and no longer `removed` (normalised here); names already served cost nothing,
   * new ones are read in the background. Whether a served name went (its status must be reported).
   */
  change(added: Iterable<string>, removed: Iterable<string>): boolean {
    let gone = false;
    for (const h of removed) {
      const e = this.entries.get(normal(h));
      if (e) { this.entries.delete(e.host); this.loader.forget(e); gone = true; }
    }
    for (const h of added) {
      const host = normal(h);
      if (this.entries.has(host)) continue;
      const issuer = this.o.issuerFor(host);
      if (!issuer) continue;
      const e: Entry = { host, issuer, state: 'pending', failures: 0, nextAttemptAt: 0, ariCheckAt: 0 };
      this.entries.set(host, e);
      this.o.watch(issuer.id); // before reading: a later store is seen
      this.loader.add(e);
    }
    return gone;
  }

  /** The served entry named exactly `name` (normalised), its stored pair read first if the background has not come to it yet. */
  exact(name: string): Entry | undefined { return this.readNow(this.entries.get(name)); }

  /** The served wildcard entry that covers `name`, read first likewise. */
  wildcard(name: string): Entry | undefined { return this.readNow(this.entries.get(wildcardAbove(name))); }

  private readNow(e: Entry | undefined): Entry | undefined { if (e) this.loader.now(e); return e; }

  /** Every served name (the DNS answers for these). */
  hosts(): string[] { return [...this.entries.keys()]; }

  /** Whether `host` is served: a look-up, no copy of every name. */
  serves(host: string): boolean { return this.entries.has(host); }

  /** Whether a served name lies below `name` (an empty non-terminal in DNS), without copying them. */
  servesBelow(name: string): boolean {
    const suffix = `.${name}`;
    for (const h of this.entries.keys()) if (h.endsWith(suffix)) return true;
    return false;
  }

  /** Every served entry, read or not. */
  values(): IterableIterator<Entry> { return this.entries.values(); }

  /** The entries whose stored pair was read (the others read whatever is stored when their turn comes). */
  *readEntries(): Iterable<Entry> { for (const e of this.entries.values()) if (!this.loader.pending(e)) yield e; }

  /** Whether `e` still waits to be read (it must not be ordered yet). */
  pending(e: Entry): boolean { return this.loader.pending(e); }

  /** Resolves once every name added so far (and meanwhile) has had its storage read. */
  whenRead(): Promise<void> { return this.loader.drain(); }

  /** Stops reading: what is still unread stays so. */
  close(): void { this.loader.close(); }
}
