import dns from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DreamDns } from './server.js';
import type { Zone } from './answer.js';

const zone: Zone = {
  edge: ['127.0.0.1', '::1'],
  serves: (h) => ['hello.dream', 'www.example.test'].includes(h),
  servesBelow: () => false,
  txt: (n) => (n === '_acme-challenge.hello.dream' ? ['proof-123'] : []),
};

describe('.dream DNS (real UDP/TCP server, node resolver)', () => {
  let server: DreamDns;
  let r: dns.promises.Resolver;
  beforeAll(async () => {
    server = await DreamDns.start({ host: '127.0.0.1', port: 0, zone });
    r = new dns.promises.Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${server.port}`]);
  });
  afterAll(() => server.close());

  it('answers A and AAAA for a served app with the edge address', async () => {
    expect(await r.resolve4('hello.dream')).toEqual(['127.0.0.1']);
    expect(await r.resolve6('HELLO.dream')).toEqual(['::1']);
    expect(await r.resolve4('www.example.test')).toEqual(['127.0.0.1']);
  });

  it('NXDOMAIN for an unknown app', async () => {
    await expect(r.resolve4('nope.dream')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('TXT at _acme-challenge while an order is in flight', async () => {
    expect(await r.resolveTxt('_acme-challenge.hello.dream')).toEqual([['proof-123']]);
    await expect(r.resolveTxt('_acme-challenge.other.dream')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('refuses names it is not authoritative for', async () => {
    await expect(r.resolve4('example.org')).rejects.toMatchObject({ code: 'EREFUSED' });
  });
});
