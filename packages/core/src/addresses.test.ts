// The address settings' grammar and how a peer's address is read as a client, shared by the proxy
// (X-Forwarded-For, trusted proxies) and the api (the auth-failure limit).
import { describe, expect, it } from 'vitest';
import { clientAddress, ipv6Groups, parseAddressList, parseCidrList } from './addresses.js';

describe('clientAddress', () => {
  it('reads an IPv4-mapped IPv6 address as its IPv4, in any spelling', () => {
    expect(clientAddress('::ffff:192.0.2.1')).toBe('192.0.2.1'); // how node reports a dual-stack peer
    expect(clientAddress('0:0:0:0:0:ffff:c000:201')).toBe('192.0.2.1');
    expect(clientAddress('::FFFF:C000:0201')).toBe('192.0.2.1');
    expect(clientAddress('0000:0000:0000:0000:0000:ffff:10.0.0.1')).toBe('10.0.0.1');
  });

  it('drops a link-local zone and leaves other addresses and non-addresses as they are', () => {
    expect(clientAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(clientAddress('2001:db8::ffff:1')).toBe('2001:db8::ffff:1'); // ffff, but not mapped
    expect(clientAddress('::1')).toBe('::1');
    expect(clientAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(clientAddress('unknown%x')).toBe('unknown%x');
    expect(clientAddress('')).toBe('');
  });

  it('expands IPv6 groups', () => {
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('address settings', () => {
  it('reads lists of addresses and ranges', () => {
    expect(parseAddressList(' 192.0.2.1, 2001:db8::1 ,')).toEqual(['192.0.2.1', '2001:db8::1']);
    expect(parseCidrList('10.0.0.0/8, 192.0.2.7, fd00::/8')).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '192.0.2.7', prefix: 32, family: 'ipv4' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
    ]);
  });

  it('refuses what it cannot read, naming the entry', () => {
    expect(() => parseCidrList('10.0.0.0/')).toThrow(/"10.0.0.0\/": the prefix length/);
    expect(() => parseCidrList('10.0.0.0/33')).toThrow(/0-32/);
    expect(() => parseCidrList('fd00::/0x8')).toThrow(/0-128/);
    expect(() => parseAddressList('fe80::1%eth0')).toThrow(/zone id/);
    expect(() => parseAddressList('[::1]')).toThrow(/without brackets/);
    expect(() => parseAddressList('example.com')).toThrow(/not an IPv4 or IPv6 address/);
  });
});
