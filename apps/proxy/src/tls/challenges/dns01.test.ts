import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { TlsStorage } from '../storage.js';
import { Dns01Solver } from './dns01.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dns01-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Dns01Solver', () => {
  it('serves a record another process presented through the shared data dir, until it is cleaned up', async () => {
    // Two workers on one data dir: the one ordering is not the one answering DNS.
    const ordering = new Dns01Solver(new TlsStorage(dir));
    const answering = new Dns01Solver(new TlsStorage(dir));
    await ordering.present('*.apps.dream', 'tok', 'digest-1');
    await ordering.present('apps.dream', 'tok2', 'digest-2');
    expect(answering.txt('_acme-challenge.apps.dream.')).toEqual(['digest-1', 'digest-2']);
    await ordering.cleanup('*.apps.dream', 'tok', 'digest-1');
    expect(answering.txt('_acme-challenge.apps.dream')).toEqual(['digest-2']);
    await ordering.cleanup('apps.dream', 'tok2', 'digest-2');
    expect(answering.txt('_acme-challenge.apps.dream')).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'tls', 'dns01', '_acme-challenge.apps.dream'))).toBe(false);
  });

  it('never turns a query name into a path outside its folder', () => {
    expect(new Dns01Solver(new TlsStorage(dir)).txt('../../etc/passwd')).toEqual([]);
  });

  it('answers a flood of queries from one read of the folder, and sees every change of a sibling at once', async () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'dns01-flood-'));
    try {
      const ordering = new Dns01Solver(new TlsStorage(shared));
      const answering = new Dns01Solver(new TlsStorage(shared));
      for (let i = 0; i < 50; i++) await ordering.present(`n${i}.b.dream`, 'tok', `digest-${i}`);
      // Past the window in which a snapshot of a just-changed folder is not trusted (dns01-stored.ts).
      await new Promise((r) => setTimeout(r, 80));
      const readdir = vi.spyOn(fs, 'readdirSync');
      try {
        // Random names that do not exist: each one asked whether anything is below it, and for TXT.
        for (let i = 0; i < 1000; i++) {
          expect(answering.hasBelow(`r${i}.dream`)).toBe(false);
          expect(answering.txt(`_acme-challenge.r${i}.dream`)).toEqual([]);
        }
        expect(answering.hasBelow('b.dream')).toBe(true);
        expect(readdir.mock.calls.length).toBeLessThanOrEqual(1);
      } finally { readdir.mockRestore(); }
      // Changes made right after one another (within one tick of the folder's mtime) are each seen
      // by the very next query.
      for (let i = 0; i < 20; i++) {
        await ordering.present(`m${i}.c.dream`, 'tok', `d-${i}`);
        expect(answering.txt(`_acme-challenge.m${i}.c.dream`)).toEqual([`d-${i}`]);
        expect(answering.hasBelow(`m${i}.c.dream`)).toBe(true);
        await ordering.cleanup(`m${i}.c.dream`, 'tok', `d-${i}`);
        expect(answering.txt(`_acme-challenge.m${i}.c.dream`)).toEqual([]);
        expect(answering.hasBelow(`m${i}.c.dream`)).toBe(false);
      }
    } finally { fs.rmSync(shared, { recursive: true, force: true }); }
  });
});
