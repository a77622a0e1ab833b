// DNS-01: TXT records at _acme-challenge.<name>, served by the built-in `.dream` DNS while an
// order is in flight. This is what makes a wildcard (*.dream) certificate possible. Only names the
// platform's DNS is authoritative for can be solved this way.
import type { ChallengeSolver } from './types.js';

export function challengeName(name: string): string {
  return `_acme-challenge.${name.replace(/^\*\./, '')}`.toLowerCase();
}

export class Dns01Solver implements ChallengeSolver {
  readonly type = 'dns-01' as const;
  // Several values may coexist (example.dream and *.example.dream in one order share the name).
  private readonly records = new Map<string, string[]>();

  async present(name: string, _token: string, digest: string): Promise<void> {
    const n = challengeName(name);
    this.records.set(n, [...(this.records.get(n) ?? []), digest]);
  }

  async cleanup(name: string, _token: string, digest: string): Promise<void> {
    const n = challengeName(name);
    const left = (this.records.get(n) ?? []).filter((v) => v !== digest);
    if (left.length) this.records.set(n, left); else this.records.delete(n);
  }

  /** TXT values for a fully qualified name (no trailing dot), [] when none. */
  txt(fqdn: string): string[] {
    return this.records.get(fqdn.toLowerCase().replace(/\.$/, '')) ?? [];
  }
}
