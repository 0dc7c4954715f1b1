import { describe, expect, it } from 'vitest';
import { isLoopback, normalizeIp } from '../../src/core/ip-address.ts';

describe('normalizeIp', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['::ffff:0a01:0203', '10.1.2.3'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    // IPv4-translated (::ffff:0:a.b.c.d) is not IPv4-mapped: it stays an IPv6 address.
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
  ])('%s → %s', (raw, ip) => {
    expect(normalizeIp(raw)).toBe(ip);
  });

  it.each(['', 'nope', '10.1.2', '300.1.1.1', ':::'])('%j is not an address', (raw) => {
    expect(normalizeIp(raw)).toBeUndefined();
  });

  it('loopback is 127.0.0.0/8 and ::1', () => {
    expect([isLoopback('127.0.0.1'), isLoopback('127.255.0.9'), isLoopback('::1'), isLoopback('128.0.0.1')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
