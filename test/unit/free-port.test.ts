import { describe, expect, it } from 'vitest';
import { freePort } from '../free-port.js';

describe('freePort', () => {
  // Two in a row once gave Pebble the same port for two listeners (bind: address already in use).
  it('never hands out one number twice in a process (500 calls)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 500; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(500);
  });
});
