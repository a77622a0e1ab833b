// An immutable map that a new version makes from the previous one in time proportional to what
// changed: the versions share one base map, and each carries the few keys changed since (its
// overlay, copied from the previous version's). Copying a 10 000-host map for every route table
// took 6 ms of the 57-98 ms a one-route change held the event loop at 5 000 apps (bench/proxy/scale).
// Once the overlay outgrows a fraction of the base it is folded into a new base, so a look-up stays
// two Map.get()s and the copying averages out to a constant per changed key.

/** Marks a key the overlay removed from the base. */
const GONE = Symbol('gone');

/** Fold the overlay into a new base past this many keys (plus an eighth of the base). */
const FOLD_AT = 256;

export class LayeredMap<K, V> {
  private constructor(private readonly base: ReadonlyMap<K, V>, private readonly over: ReadonlyMap<K, V | typeof GONE>) {}

  static of<K, V>(m: Map<K, V>): LayeredMap<K, V> { return new LayeredMap(m, new Map()); }

  get(k: K): V | undefined {
    const o = this.over.get(k);
    if (o === GONE) return undefined;
    return o !== undefined ? o : this.base.get(k);
  }

  has(k: K): boolean { return this.get(k) !== undefined; }

  /** A new version with `changes` applied (undefined: the key goes); this one stays as it is. */
  with(changes: ReadonlyMap<K, V | undefined>): LayeredMap<K, V> {
    const over = new Map(this.over);
    for (const [k, v] of changes) {
      if (v !== undefined) over.set(k, v);
      else if (this.base.has(k)) over.set(k, GONE);
      else over.delete(k);
    }
    if (over.size <= FOLD_AT + this.base.size / 8) return new LayeredMap(this.base, over);
    const base = new Map(this.base);
    for (const [k, v] of over) { if (v === GONE) base.delete(k); else base.set(k, v); }
    return new LayeredMap(base, new Map());
  }

  /** Every key with its value (base order, then keys the overlay added). */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.base) { const o = this.over.get(k); if (o === undefined) yield [k, v]; else if (o !== GONE) yield [k, o]; }
    for (const [k, o] of this.over) if (o !== GONE && !this.base.has(k)) yield [k, o];
  }
}
