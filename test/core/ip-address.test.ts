import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoopback, isPrivate, normalizeIp } from '../../src/core/ip-address.ts';

/**
 * Texts at and near IPv6 addresses: eight groups (or six and an IPv4 part), a run of
 * them maybe compressed to `::`, maybe a zone; then, half the time, one edit (a character
 * inserted, deleted or replaced by one that matters to the grammar).
 */
const group = fc.stringMatching(/^[0-9a-fA-F]{1,4}$/);
const octet = fc.integer({ min: 0, max: 255 }).map(String);
const ipv6Like = fc
  .record({
    groups: fc.array(group, { minLength: 8, maxLength: 8 }),
    v4: fc.option(
      fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
      { nil: undefined },
    ),
    compress: fc.option(fc.tuple(fc.nat(8), fc.nat(8)), { nil: undefined }),
    zone: fc.constantFrom('', '', '%eth0', '%1', '%en-0.1:2', '%', '%a%b', '%é'),
    edit: fc.option(
      fc.tuple(fc.nat(60), fc.nat(2), fc.constantFrom(':', '.', '0', 'f', 'F', 'g', '::', '1.2', ']', '/', '%', ' ', '12345')),
      {
        nil: undefined,
      },
    ),
  })
  .map(({ groups, v4, compress, zone, edit }) => {
    const parts: string[] = v4 === undefined ? groups : [...groups.slice(0, 6), v4];
    let text = parts.join(':');
    if (compress) {
      const [a, b] = compress[0] <= compress[1] ? compress : [compress[1], compress[0]];
      const from = Math.min(a, parts.length);
      const to = Math.min(b, parts.length);
      text = `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
    }
    text += zone;
    if (edit) {
      const [at, kind, what] = edit;
      const i = at % (text.length + 1);
      text =
        kind === 0
          ? text.slice(0, i) + what + text.slice(i)
          : kind === 1
            ? text.slice(0, i) + text.slice(i + 1)
            : text.slice(0, i) + what + text.slice(i + what.length);
    }
    return text;
  });

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

  // The last ones would pass the URL parser as a host and more: the characters are checked first.
  it.each(['', 'nope', '10.1.2', '300.1.1.1', ':::', '::1]/x[', '::1]', '[::1]', '::1/64', ' ::1', '::1\t', '::\n1'])(
    '%j is not an address',
    (raw) => {
      expect(normalizeIp(raw)).toBeUndefined();
    },
  );

  it('takes exactly the texts net.isIPv4 and net.isIPv6 take', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6Like, fc.string({ maxLength: 20 })), (text) => {
        expect(normalizeIp(text) !== undefined, text).toBe(isIPv4(text) || isIPv6(text));
      }),
      { numRuns: 5000 },
    );
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

describe('isPrivate', () => {
  it.each([
    ['10.1.2.3', true],
    ['192.168.0.1', true],
    ['8.8.8.8', false],
    ['fd00::1', true],
    ['fe80::1', true],
    ['2001:db8::1', false],
    ['nope', false],
    ['fd00::1]/x', false],
    ['172.15.255.255', false],
    ['172.16.0.0', true],
    ['172.31.255.255', true],
    ['172.32.0.0', false],
    ['100.63.255.255', false],
    ['100.64.0.0', true],
    ['100.127.255.255', true],
    ['100.128.0.0', false],
    ['11.0.0.0', false],
    ['9.255.255.255', false],
    ['192.169.0.0', false],
  ])('%s: %s', (ip, expected) => {
    expect(isPrivate(ip)).toBe(expected);
  });
});
