/**
 * The address records of one DNS response, each with the name the client asked for
 * (the question, the head of any CNAME chain) and the name the record itself carries.
 * Pure: dnstap frames come in, address → name facts go out.
 */
import dnsPacket from 'dns-packet';
import { normalizeIp } from '../../core/ip-address.ts';

export interface AddressAnswer {
  /** Normalised as the resolver normalises peers (ip-address.ts). */
  address: string;
  /** The question's name when the record answers it (through CNAMEs), else the record's own. */
  asked: string;
  /** The owner name of the A/AAAA record (the end of the CNAME chain). */
  answered: string;
  /** Seconds: the smallest TTL along the chain, since the asked name holds only that long. */
  ttlSeconds: number;
}

export class DnsMessageError extends Error {
  override readonly name = 'DnsMessageError';
}

/** Lower case without the trailing dot: how the `remote_dns` tag spells names. */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The longest CNAME chain followed; longer ones are loops or abuse. */
const MAX_CHAIN = 16;

/** Decodes a wire-format response; DnsMessageError when it is not one. */
export function addressAnswers(wire: Uint8Array): AddressAnswer[] {
  let packet: dnsPacket.DecodedPacket;
  const buf = Buffer.isBuffer(wire) ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  try {
    packet = dnsPacket.decode(buf);
  } catch (err) {
    throw new DnsMessageError(`not a DNS message: ${(err as Error).message}`);
  }
  // dns-packet reads past the end of a cut message (an address becomes "192.0.2.undefined")
  // instead of throwing; what it consumed tells.
  if (dnsPacket.decode.bytes > buf.length)
    throw new DnsMessageError(`not a DNS message: truncated (${buf.length} bytes, ${dnsPacket.decode.bytes} needed)`);
  if (!packet.flag_qr) return [];
  // RCODE (the low 4 bits): only NOERROR answers say what a name is.
  if (((packet.flags ?? 0) & 0xf) !== 0) return [];
  const answers = packet.answers ?? [];
  if (answers.length === 0) return [];
  const question = packet.questions?.[0];
  const asked = question ? canonicalName(question.name) : undefined;

  // Owner → (target, ttl) of every CNAME, to walk the chain from the question.
  const cnames = new Map<string, { target: string; ttl: number }>();
  for (const a of answers) {
    if (a.type === 'CNAME') cnames.set(canonicalName(a.name), { target: canonicalName(a.data), ttl: a.ttl ?? 0 });
  }
  // The names the question reaches, and the smallest TTL on the way to each.
  const reached = new Map<string, number>();
  if (asked !== undefined) {
    let name = asked;
    let ttl = Infinity;
    reached.set(name, ttl);
    for (let i = 0; i < MAX_CHAIN; i++) {
      const link = cnames.get(name);
      if (!link || reached.has(link.target)) break;
      ttl = Math.min(ttl, link.ttl);
      name = link.target;
      reached.set(name, ttl);
    }
  }

  const out: AddressAnswer[] = [];
  for (const a of answers) {
    if (a.type !== 'A' && a.type !== 'AAAA') continue;
    const address = normalizeIp(a.data);
    if (address === undefined) continue;
    const answered = canonicalName(a.name);
    const chainTtl = reached.get(answered);
    const ttl = a.ttl ?? 0;
    out.push(
      chainTtl === undefined
        ? { address, asked: answered, answered, ttlSeconds: ttl }
        : { address, asked: asked!, answered, ttlSeconds: Math.min(ttl, chainTtl) },
    );
  }
  return out;
}
