/**
 * IP address normalisation, so that an address printed by Tetragon and one listed by
 * the Kubernetes API compare equal as strings.
 */
import { BlockList, isIPv4 } from 'node:net';

const MAPPED_PREFIX = '::ffff:';

/** The characters of an IPv6 address's text, a zone index aside. */
const IPV6_CHARACTERS = /^[0-9a-fA-F:.]+$/;
/** A zone index (after `%`), as net.isIPv6 accepts it. */
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/**
 * The canonical form of an IPv6 address's text (no zone), or undefined when it is not
 * one. The URL parser is the validator and canonicaliser node ships (zero compression,
 * hex case); net.isIPv6 is not used: V8 compiles its 2.6 KB regular expression on first
 * use, ~4 ms of the start of every stream with an IPv6 peer. On these characters the two
 * accept the same texts (test/core/ip-address.test.ts holds them to it), and checking the
 * characters first keeps `]`, `/` and the like from reaching the URL.
 */
function canonicalIPv6(text: string): string | undefined {
  if (!IPV6_CHARACTERS.test(text)) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * IPv4 stays as it is; an IPv4-mapped IPv6 address becomes its IPv4 address; other
 * IPv6 addresses take their canonical (RFC 5952) form. Returns undefined for anything
 * that is not an IP address.
 */
export function normalizeIp(raw: string): string | undefined {
  if (raw.indexOf(':') < 0) return isIPv4(raw) ? raw : undefined;
  // A zone index (fe80::1%eth0) names an interface, not another address.
  const zone = raw.indexOf('%');
  if (zone >= 0 && !ZONE.test(raw.slice(zone + 1))) return undefined;
  const lower = (zone < 0 ? raw : raw.slice(0, zone)).toLowerCase();
  if (lower.startsWith(MAPPED_PREFIX) && isIPv4(lower.slice(MAPPED_PREFIX.length))) return lower.slice(MAPPED_PREFIX.length);
  const canonical = canonicalIPv6(lower);
  if (canonical === undefined) return undefined;
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1] ?? '0', 16);
    const lo = parseInt(hexMapped[2] ?? '0', 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canonical;
}

/** 127.0.0.0/8 and ::1, on a normalised address. */
export function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

// node's BlockList does the prefix arithmetic (IPv4 and IPv6) that a hand-written
// parser would repeat.
const PRIVATE_RANGES = new BlockList();
PRIVATE_RANGES.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE_RANGES.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE_RANGES.addSubnet('192.168.0.0', 16, 'ipv4');
// Shared address space (RFC 6598): carrier-grade NAT, and some clouds' VPC ranges.
PRIVATE_RANGES.addSubnet('100.64.0.0', 10, 'ipv4');
// Unique local (RFC 4193) and link-local IPv6.
PRIVATE_RANGES.addSubnet('fc00::', 7, 'ipv6');
PRIVATE_RANGES.addSubnet('fe80::', 10, 'ipv6');

/**
 * 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fe80::/10, on a normalised address
 * (an IPv4-mapped IPv6 address has become its IPv4 address by then).
 */
export function isPrivate(ip: string): boolean {
  if (isIPv4(ip)) return PRIVATE_RANGES.check(ip, 'ipv4');
  return canonicalIPv6(ip) !== undefined && PRIVATE_RANGES.check(ip, 'ipv6');
}
