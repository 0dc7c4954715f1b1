/** Address records of DNS responses with the name asked, as CoreDNS puts them on the wire. */
import { describe, expect, it } from 'vitest';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { addressAnswers, DnsMessageError } from '../../../src/sources/dnstap/dns-answers.ts';

const response = (p: Partial<dnsPacket.Packet>): Buffer => dnsPacket.encode({ type: 'response', flags: 0, ...p });

describe('addressAnswers', () => {
  it('names A and AAAA records by the question, lower-case, without the trailing dot', () => {
    const wire = response({
      questions: [{ type: 'A', name: 'API.Example.COM.' }],
      answers: [
        { type: 'A', name: 'API.Example.COM.', ttl: 30, data: '192.0.2.10' },
        { type: 'AAAA', name: 'api.example.com', ttl: 60, data: '2001:0db8:0000:0000:0000:0000:0000:0010' },
      ],
    });
    expect(addressAnswers(wire)).toEqual([
      { address: '192.0.2.10', asked: 'api.example.com', answered: 'api.example.com', ttlSeconds: 30 },
      // The address as the resolver normalises peers.
      { address: '2001:db8::10', asked: 'api.example.com', answered: 'api.example.com', ttlSeconds: 60 },
    ]);
  });

  it('gives the head of a CNAME chain as the asked name, the end as the answered one, and the smallest TTL on the way', () => {
    const wire = response({
      questions: [{ type: 'A', name: 's3.eu-west-1.amazonaws.com' }],
      answers: [
        { type: 'CNAME', name: 's3.eu-west-1.amazonaws.com', ttl: 20, data: 's3-r-w.eu-west-1.amazonaws.com' },
        { type: 'CNAME', name: 's3-r-w.eu-west-1.amazonaws.com', ttl: 300, data: 'edge.aws.example' },
        { type: 'A', name: 'edge.aws.example', ttl: 5, data: '52.216.1.2' },
        { type: 'A', name: 'edge.aws.example', ttl: 60, data: '52.216.1.3' },
        // Not reached from the question: its own name.
        { type: 'A', name: 'elsewhere.example', ttl: 9, data: '198.51.100.1' },
      ],
    });
    expect(addressAnswers(wire)).toEqual([
      { address: '52.216.1.2', asked: 's3.eu-west-1.amazonaws.com', answered: 'edge.aws.example', ttlSeconds: 5 },
      { address: '52.216.1.3', asked: 's3.eu-west-1.amazonaws.com', answered: 'edge.aws.example', ttlSeconds: 20 },
      { address: '198.51.100.1', asked: 'elsewhere.example', answered: 'elsewhere.example', ttlSeconds: 9 },
    ]);
  });

  it('survives a CNAME loop', () => {
    const wire = response({
      questions: [{ type: 'A', name: 'a.example' }],
      answers: [
        { type: 'CNAME', name: 'a.example', ttl: 10, data: 'b.example' },
        { type: 'CNAME', name: 'b.example', ttl: 10, data: 'a.example' },
        { type: 'A', name: 'b.example', ttl: 10, data: '192.0.2.1' },
      ],
    });
    expect(addressAnswers(wire)).toEqual([{ address: '192.0.2.1', asked: 'a.example', answered: 'b.example', ttlSeconds: 10 }]);
  });

  it('learns nothing from queries, errors (NXDOMAIN, SERVFAIL) and records that are not addresses', () => {
    const a = { type: 'A' as const, name: 'x.example', ttl: 10, data: '192.0.2.1' };
    expect(addressAnswers(dnsPacket.encode({ type: 'query', questions: [{ type: 'A', name: 'x.example' }], answers: [a] }))).toEqual([]);
    expect(addressAnswers(response({ flags: 3, questions: [{ type: 'A', name: 'x.example' }], answers: [a] }))).toEqual([]);
    expect(addressAnswers(response({ flags: 2, questions: [{ type: 'A', name: 'x.example' }], answers: [a] }))).toEqual([]);
    expect(
      addressAnswers(
        response({ questions: [{ type: 'TXT', name: 'x.example' }], answers: [{ type: 'TXT', name: 'x.example', ttl: 1, data: 'hi' }] }),
      ),
    ).toEqual([]);
  });

  it('throws DnsMessageError on bytes that are not a DNS message', () => {
    expect(() => addressAnswers(Uint8Array.from([1, 2, 3]))).toThrow(DnsMessageError);
    const cut = response({
      questions: [{ type: 'A', name: 'x.example' }],
      answers: [{ type: 'A', name: 'x.example', ttl: 10, data: '192.0.2.1' }],
    });
    expect(() => addressAnswers(cut.subarray(0, cut.length - 3))).toThrow(DnsMessageError);
  });

  it('on random or cut bytes, throws only DnsMessageError and never yields an address that is not one', () => {
    const good = response({
      questions: [{ type: 'A', name: 'x.example' }],
      answers: [
        { type: 'CNAME', name: 'x.example', ttl: 10, data: 'y.example' },
        { type: 'A', name: 'y.example', ttl: 10, data: '192.0.2.1' },
      ],
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          fc.nat(good.length).map((n) => Uint8Array.from(good.subarray(0, n))),
        ),
        (bytes) => {
          try {
            for (const a of addressAnswers(bytes)) expect(a.address).toMatch(/^[0-9a-f:.]+$/);
          } catch (err) {
            expect(err).toBeInstanceOf(DnsMessageError);
          }
        },
      ),
    );
  });
});
