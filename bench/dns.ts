/**
 * The DNS name cache at 1,000,000 addresses: the heap it holds, how fast answers go in
 * (straight, and as dnstap frames through the Frame Streams receiver and both decoders),
 * how fast events look names up (the cache alone, and an external peer through the
 * resolver), and that a flood of twice the bound leaves the heap where it was.
 *
 * Alone: node --expose-gc --import tsx bench/dns.ts (KOVENANT_BENCH_DNS=100000 for a quick look)
 */
import dnsPacket from 'dns-packet';
import { DnsNameCache } from '../src/enrich/dns/dns-name-cache.ts';
import { addressAnswers } from '../src/sources/dnstap/dns-answers.ts';
import { MetadataIndex } from '../src/enrich/metadata/metadata-index.ts';
import { Resolver } from '../src/enrich/resolver.ts';
import { decodeDnstapResponse, encodeDnstapResponse } from '../src/sources/dnstap/dnstap-message.ts';
import { ControlType, encodeControl, encodeData, FrameStreamReceiver } from '../src/sources/dnstap/frame-stream.ts';

const ADDRESSES = Number(process.env.KOVENANT_BENCH_DNS ?? 1_000_000);
const LOOKUPS = 2_000_000;
const T = Date.UTC(2024, 4, 1, 12, 0, 0);

const gc = (globalThis as { gc?: () => void }).gc;
function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

/** Distinct public-looking addresses: 52.x.y.z then 3.x.y.z. */
function address(i: number): string {
  return `${i < 1 << 24 ? 52 : 3}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}
/** Names as they come: many addresses per name, a few thousand names. */
function name(i: number): string {
  return `bucket-${i % 4096}.s3.eu-west-1.amazonaws.com`;
}

function rate(n: number, startNs: bigint): number {
  return n / (Number(process.hrtime.bigint() - startNs) / 1e9);
}

const lines: string[] = [];
const before = heapMb();
const cache = new DnsNameCache({ max: ADDRESSES, graceMs: 300_000 });
let t = process.hrtime.bigint();
for (let i = 0; i < ADDRESSES; i++) {
  const n = name(i);
  cache.learn({ address: address(i), asked: n, answered: n, ttlSeconds: 60 }, T);
}
const learnRate = rate(ADDRESSES, t);
const held = heapMb() - before;
lines.push(
  `cache of ${ADDRESSES.toLocaleString('en')} addresses: ${held.toFixed(0)} MB of heap (${((held * 1e6) / ADDRESSES).toFixed(0)} bytes an address), filled at ${learnRate.toFixed(0)} answers/s`,
);

// Lookups: precomputed keys, as the resolver passes the peer's normalised address.
const sample = Array.from({ length: 65_536 }, (_, i) => address((i * 2_654_435_761) % ADDRESSES));
let found = 0;
t = process.hrtime.bigint();
for (let i = 0; i < LOOKUPS; i++) if (cache.nameAt(sample[i & 65_535]!, T + 1000)) found++;
const hitRate = rate(LOOKUPS, t);
const misses = Array.from({ length: 65_536 }, (_, i) => `198.18.${(i >> 8) & 255}.${i & 255}`);
t = process.hrtime.bigint();
for (let i = 0; i < LOOKUPS; i++) if (cache.nameAt(misses[i & 65_535]!, T + 1000)) found++;
const missRate = rate(LOOKUPS, t);
lines.push(`cache lookups: ${hitRate.toFixed(0)}/s hitting, ${missRate.toFixed(0)}/s missing (${found} found of ${LOOKUPS})`);

// A flood of twice the bound: the heap stays at the bound's.
t = process.hrtime.bigint();
for (let i = ADDRESSES; i < 3 * ADDRESSES; i++) {
  const n = `flood-${i}.example.com`;
  cache.learn({ address: address(i), asked: n, answered: n, ttlSeconds: 60 }, T);
}
const floodRate = rate(2 * ADDRESSES, t);
const afterFlood = heapMb() - before;
const s = cache.stats();
lines.push(
  `flood of ${(2 * ADDRESSES).toLocaleString('en')} new addresses: ${floodRate.toFixed(0)} answers/s, size ${s.size}, evictions ${s.evictions}, heap ${afterFlood.toFixed(0)} MB (was ${held.toFixed(0)} MB)`,
);

// Through the resolver: an external peer per event, 65,536 distinct peers, all named.
// The addresses the flood left in the cache.
const kept = Array.from({ length: 65_536 }, (_, i) => address(2 * ADDRESSES + ((i * 2_654_435_761) % ADDRESSES)));
const resolver = new Resolver(new MetadataIndex(), { dnsNames: cache });
for (const a of kept) resolver.remote(a, T + 1000);
t = process.hrtime.bigint();
let named = 0;
for (let i = 0; i < LOOKUPS; i++) if (resolver.remote(kept[(i >> 4) & 65_535]!, T + 1000).tags.remote_dns) named++;
lines.push(`resolver.remote of external peers with names: ${rate(LOOKUPS, t).toFixed(0)}/s (16 events a peer in a row; ${named} named)`);

// dnstap frames as CoreDNS sends them: receiver + protobuf + DNS decoding + learning.
const FRAMES = 200_000;
const frames: Buffer[] = [encodeControl(ControlType.START)];
for (let i = 0; i < 1000; i++) {
  const n = name(i);
  const wire = dnsPacket.encode({
    type: 'response',
    questions: [{ type: 'A', name: n }],
    answers: [
      { type: 'CNAME', name: n, ttl: 60, data: `s3-r-w.${n}` },
      { type: 'A', name: `s3-r-w.${n}`, ttl: 5, data: address(i) },
    ],
  });
  frames.push(encodeData(encodeDnstapResponse({ atMs: T, message: wire })));
}
const chunk = Buffer.concat(frames.slice(1));
const receiver = new FrameStreamReceiver();
receiver.receive(frames[0]!);
const fresh = new DnsNameCache({ max: 100_000, graceMs: 0 });
t = process.hrtime.bigint();
let learned = 0;
for (let done = 0; done < FRAMES; done += 1000) {
  // 64 KiB reads, as a socket delivers them.
  for (let at = 0; at < chunk.length; at += 65_536) {
    for (const payload of receiver.receive(chunk.subarray(at, at + 65_536)).payloads) {
      const r = decodeDnstapResponse(payload);
      if (!r) continue;
      for (const a of addressAnswers(r.message)) {
        fresh.learn(a, r.atMs);
        learned++;
      }
    }
  }
}
lines.push(
  `dnstap frames (Frame Streams + protobuf + DNS + learn, A behind a CNAME): ${rate(FRAMES, t).toFixed(0)} frames/s (${learned} answers)`,
);

process.stdout.write(lines.join('\n') + '\n');
