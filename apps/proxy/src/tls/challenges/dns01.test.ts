import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
});
