import { describe, expect, it } from 'vitest';
import { trustedProxies } from './trust.js';

describe('trustedProxies', () => {
  it('trusts nobody by default', () => {
    expect(trustedProxies('')('127.0.0.1')).toBe(false);
  });
  it('matches addresses and CIDRs, v4 (also v4-mapped) and v6', () => {
    const t = trustedProxies('10.0.0.0/8, 192.168.1.7, fd00::/8');
    expect(t('10.1.2.3')).toBe(true);
    expect(t('::ffff:10.1.2.3')).toBe(true);
    expect(t('192.168.1.7')).toBe(true);
    expect(t('192.168.1.8')).toBe(false);
    expect(t('fd12::1')).toBe(true);
    expect(t('::1')).toBe(false);
    expect(t('garbage')).toBe(false);
  });
  it('refuses an entry it cannot read', () => {
    expect(() => trustedProxies('10.0.0.0/33')).toThrow(/not an IP address or CIDR/);
    expect(() => trustedProxies('example.com')).toThrow(/not an IP address or CIDR/);
  });
});
