import { describe, expect, it } from 'vitest';
import { checkSnapshot, endpointKey, parseSnapshot, removedEndpoints, RouteTable } from './table.js';

const snap = {
  version: 3,
  routes: [
    { app: 'hello', hosts: ['hello.dream', 'Hello.Example.COM'], endpoints: [{ host: '10.0.0.1', port: 5000 }, { host: '10.0.0.2', port: 5000 }, { host: '10.0.0.3', port: 5000 }] },
    { app: 'empty', hosts: ['empty.dream'], endpoints: [] },
  ],
};
const table = () => new RouteTable(parseSnapshot(snap)!);

describe('RouteTable', () => {
  it('looks routes up by Host, case- and port-insensitively', () => {
    const t = table();
    expect(t.lookup('hello.dream')?.app).toBe('hello');
    expect(t.lookup('HELLO.dream:7080')?.app).toBe('hello');
    expect(t.lookup('hello.example.com.')?.app).toBe('hello');
    expect(t.lookup('empty.dream')?.endpoints).toEqual([]);
    expect(t.lookup('nope.dream')).toBeNull();
    expect(t.lookup(undefined)).toBeNull();
  });

  it('round-robins and skips endpoints marked down', () => {
    const t = table();
    const r = t.lookup('hello.dream')!;
    const picks = Array.from({ length: 6 }, () => endpointKey(t.pick(r)!));
    expect(picks).toEqual(['10.0.0.1:5000', '10.0.0.2:5000', '10.0.0.3:5000', '10.0.0.1:5000', '10.0.0.2:5000', '10.0.0.3:5000']);
    const down = (k: string) => k === '10.0.0.2:5000';
    const picks2 = Array.from({ length: 4 }, () => endpointKey(t.pick(r, down)!));
    expect(picks2).not.toContain('10.0.0.2:5000');
    expect(new Set(picks2)).toEqual(new Set(['10.0.0.1:5000', '10.0.0.3:5000']));
  });

  it('hands out each endpoint with its key, the same object every time for one table', () => {
    const t = table();
    const r = t.lookup('hello.dream')!;
    const first = Array.from({ length: 3 }, () => t.pick(r)!);
    expect(first.map((e) => [e.host, e.port, e.key])).toEqual([['10.0.0.1', 5000, '10.0.0.1:5000'], ['10.0.0.2', 5000, '10.0.0.2:5000'], ['10.0.0.3', 5000, '10.0.0.3:5000']]);
    // Nothing made per request: the next round hands out the very same objects (and key strings).
    const again = Array.from({ length: 3 }, () => t.pick(r)!);
    again.forEach((e, i) => expect(e).toBe(first[i]));
    const v6 = new RouteTable({ version: 1, routes: [{ app: 'six', hosts: ['six.dream'], endpoints: [{ host: 'fd00::1', port: 80 }] }] });
    expect(v6.pick(v6.lookup('six.dream')!)!.key).toBe('[fd00::1]:80');
  });

  it('still picks a down endpoint when all are down, but never an excluded one', () => {
    const t = table();
    const r = t.lookup('hello.dream')!;
    expect(t.pick(r, () => true)).not.toBeNull();
    const all = new Set(r.endpoints.map(endpointKey));
    expect(t.pick(r, () => false, all)).toBeNull();
    expect(endpointKey(t.pick(r, () => false, new Set(['10.0.0.1:5000', '10.0.0.2:5000']))!)).toBe('10.0.0.3:5000');
    expect(t.pick(t.lookup('empty.dream')!)).toBeNull();
  });

  it('lists endpoints a new version removed', () => {
    const next = new RouteTable({ version: 4, routes: [{ app: 'hello', hosts: ['hello.dream'], endpoints: [{ host: '10.0.0.3', port: 5000 }, { host: '10.0.0.9', port: 5000 }] }] });
    expect(removedEndpoints(table(), next).sort()).toEqual(['10.0.0.1:5000', '10.0.0.2:5000']);
    expect(removedEndpoints(next, next)).toEqual([]);
  });
});

describe('checkSnapshot / parseSnapshot', () => {
  it('rejects what is not a table; an entry with anything wrong is left out whole and reported', () => {
    expect(parseSnapshot(null)).toBeNull();
    expect(parseSnapshot({ routes: [] })).toBeNull();
    expect(parseSnapshot({ version: -1, routes: [] })).toBeNull();
    expect(checkSnapshot([])).toEqual({ ok: false, why: 'not an object' });
    const raw = {
      version: 1,
      routes: [
        { app: 'a', hosts: ['a.dream', 'bad host'], endpoints: [{ host: 'y', port: 80 }] },
        { app: 'b', hosts: ['B.dream'], endpoints: [{ host: 'x', port: 0 }, { host: 'y', port: 80 }] },
        { app: 'c', hosts: 'c.dream', endpoints: [] },
        { nope: 1 },
        { app: 'd', hosts: ['d.dream'], endpoints: [{ host: 'z', port: 81 }] },
        { app: 'd', hosts: ['d2.dream'], endpoints: [] },
      ],
    };
    expect(checkSnapshot(raw)).toEqual({
      ok: true,
      snapshot: { version: 1, routes: [{ app: 'd', hosts: ['d.dream'], endpoints: [{ host: 'z', port: 81 }] }] },
      broken: [
        { index: 0, app: 'a', why: 'host "bad host" is not a host name' },
        { index: 1, app: 'b', why: 'endpoint {"host":"x","port":0} is not {host, port}' },
        { index: 2, app: 'c', why: '`hosts` is not a list' },
        { index: 3, app: undefined, why: 'no app name' },
        { index: 5, app: 'd', why: 'a second entry for this app' },
      ],
    });
    expect(parseSnapshot(raw)).toEqual({ version: 1, routes: [{ app: 'd', hosts: ['d.dream'], endpoints: [{ host: 'z', port: 81 }] }] });
  });

  it('keeps an app\'s own proxy settings, and leaves out an entry whose settings are not valid', () => {
    const raw = {
      version: 2,
      routes: [
        { app: 'a', hosts: ['a.dream'], endpoints: [], maxRequestBody: 0, requestBuffering: false },
        { app: 'b', hosts: ['b.dream'], endpoints: [], maxRequestBody: 52428800 },
        { app: 'c', hosts: ['c.dream'], endpoints: [], maxRequestBody: -1 },
        { app: 'd', hosts: ['d.dream'], endpoints: [], maxRequestBody: '50m' },
        { app: 'e', hosts: ['e.dream'], endpoints: [], requestBuffering: 'off' },
        { app: 'f', hosts: ['f.dream'], endpoints: [], somethingNewer: true },
      ],
    };
    const c = checkSnapshot(raw);
    expect(c.ok && c.snapshot.routes).toEqual([
      { app: 'a', hosts: ['a.dream'], endpoints: [], maxRequestBody: 0, requestBuffering: false },
      { app: 'b', hosts: ['b.dream'], endpoints: [], maxRequestBody: 52428800 },
      // A field this proxy does not know is not kept (a newer api's).
      { app: 'f', hosts: ['f.dream'], endpoints: [] },
    ]);
    expect(c.ok && c.broken).toEqual([
      { index: 2, app: 'c', why: '`maxRequestBody` is not a whole number ≥ 0' },
      { index: 3, app: 'd', why: '`maxRequestBody` is not a whole number ≥ 0' },
      { index: 4, app: 'e', why: '`requestBuffering` is not true or false' },
    ]);
  });
});

describe('least-connections', () => {
  it('picks the endpoint with the fewest in flight, round-robin among equals', () => {
    const t = table();
    const r = t.lookup('hello.dream')!;
    const busy: Record<string, number> = { '10.0.0.1:5000': 3, '10.0.0.2:5000': 1, '10.0.0.3:5000': 1 };
    const load = (k: string) => busy[k] ?? 0;
    const picks = Array.from({ length: 4 }, () => endpointKey(t.pick(r, () => false, undefined, load)!));
    expect(picks).toEqual(['10.0.0.2:5000', '10.0.0.3:5000', '10.0.0.2:5000', '10.0.0.3:5000']);
    busy['10.0.0.1:5000'] = 0;
    expect(endpointKey(t.pick(r, () => false, undefined, load)!)).toBe('10.0.0.1:5000');
    // A down endpoint is skipped even when it is the least loaded.
    expect(endpointKey(t.pick(r, (k) => k === '10.0.0.1:5000', undefined, load)!)).not.toBe('10.0.0.1:5000');
  });
});
