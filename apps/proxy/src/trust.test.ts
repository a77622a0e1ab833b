import { describe, expect, it } from 'vitest';
import { clientOf, trustedProxies } from './trust.js';

describe('trustedProxies', () => {
  it('trusts nobody by default', () => {
    expect(trustedProxies('')('127.0.0.1')).toBe(false);
  });
  it('matches addresses and CIDRs, v4 (also v4-mapped) and v6', () => {
    const t = trustedProxies('10.0.0.0/8, 192.168.1.7, fd00::/8');
    expect(t('10.1.2.3')).toBe(true);
    expect(t('::ffff:10.1.2.3')).toBe(true);
    // The same, as a forwarded X-Forwarded-For hop may spell it.
    expect(t('0:0:0:0:0:ffff:a01:203')).toBe(true);
    expect(t('::FFFF:10.1.2.3')).toBe(true);
    expect(t('192.168.1.7')).toBe(true);
    expect(t('192.168.1.8')).toBe(false);
    expect(t('fd12::1')).toBe(true);
    expect(t('::1')).toBe(false);
    expect(t('garbage')).toBe(false);
  });
  it('matches an IPv4 client of a dual-stack listener against an IPv4-mapped range, and nothing else', () => {
    const t = trustedProxies('::ffff:10.0.0.0/104');
    expect(t('::ffff:10.9.9.9')).toBe(true);
    expect(t('10.9.9.9')).toBe(true);
    expect(t('::ffff:11.0.0.1')).toBe(false);
    expect(t('::a00:1')).toBe(false);
  });
  it('refuses an entry it cannot read', () => {
    expect(() => trustedProxies('10.0.0.0/33')).toThrow(/DREAM_TRUSTED_PROXIES: "10.0.0.0\/33": the prefix length/);
    expect(() => trustedProxies('example.com')).toThrow(/not an IPv4 or IPv6 address/);
  });
  it('refuses what it used to read as something else: an empty or non-decimal prefix, a zone, brackets', () => {
    // "10.0.0.0/" was /0 (every IPv4 client trusted); "0x8" and "1e1" were Number()s.
    for (const e of ['10.0.0.0/', '10.0.0.0/0x8', '10.0.0.0/1e1', '10.0.0.0/ 8', 'fd00::/']) expect(() => trustedProxies(e), e).toThrow(/prefix length/);
    expect(() => trustedProxies('fe80::1%eth0')).toThrow(/zone id/);
    expect(() => trustedProxies('[::1]')).toThrow(/without brackets/);
  });
});

describe('clientOf (the access log\'s client)', () => {
  const t = trustedProxies('10.0.0.0/8, ::1');
  it('is the peer unless the peer is trusted, whatever X-Forwarded-For says', () => {
    expect(clientOf('203.0.113.9', '6.6.6.6', t)).toBe('203.0.113.9');
    expect(clientOf('10.0.0.2', undefined, t)).toBe('10.0.0.2');
  });
  it('walks from the right past trusted hops; all trusted: the left-most; no address: stops at the hop to its right', () => {
    expect(clientOf('10.0.0.2', '6.6.6.6, 203.0.113.7, 10.0.0.1', t)).toBe('203.0.113.7');
    expect(clientOf('10.0.0.2', ['6.6.6.6', '203.0.113.7'], t)).toBe('203.0.113.7');
    expect(clientOf('10.0.0.2', '10.0.0.5, ::1', t)).toBe('10.0.0.5');
    expect(clientOf('10.0.0.2', 'unknown, 10.0.0.5', t)).toBe('10.0.0.5');
    expect(clientOf('10.0.0.2', '', t)).toBe('10.0.0.2');
  });
});
