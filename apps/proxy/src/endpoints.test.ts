import { describe, expect, it } from 'vitest';
import { EndpointState } from './endpoints.js';

describe('EndpointState', () => {
  it('waits until removed endpoints are idle', async () => {
    const s = new EndpointState();
    const done1 = s.acquire('a:1');
    const done2 = s.acquire('a:1');
    s.acquire('b:1'); // never released, but not waited on
    let idle: boolean | null = null;
    const p = s.waitIdle(['a:1'], 5000).then((v) => { idle = v; });
    done1();
    done1(); // double release must not count twice
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBeNull();
    expect(s.inFlight('a:1')).toBe(1);
    done2();
    await p;
    expect(idle).toBe(true);
  });

  it('gives up after the timeout', async () => {
    const s = new EndpointState();
    s.acquire('a:1');
    expect(await s.waitIdle(['a:1'], 20)).toBe(false);
    expect(await s.waitIdle([], 20)).toBe(true);
  });

  it('down marks expire', () => {
    let now = 1000;
    const s = new EndpointState(500, () => now);
    s.markDown('a:1');
    expect(s.isDown('a:1')).toBe(true);
    now += 501;
    expect(s.isDown('a:1')).toBe(false);
  });
});
