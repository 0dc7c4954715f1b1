import { Resolver } from '/work/wt/i11/src/enrich/resolver.ts';
import { MetadataIndex } from '/work/wt/i11/src/enrich/metadata/metadata-index.ts';
import { externalIp } from '/work/wt/i11/test/support/hostile-streams.ts';
const N = Number(process.argv[2] ?? 100000);
const r = new Resolver(new MetadataIndex(), { maxCachedEntries: 10_000_000 });
globalThis.gc!(); const h0 = process.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) {
  const l = r.localPod('n1', 'load', `pod-${i % 500}`, { podWorkload: `wl-${i % 50}`, podWorkloadKind: 'Deployment' });
  r.tcpSeries(l, r.remote(externalIp(i), 1000));
}
globalThis.gc!(); const h1 = process.memoryUsage().heapUsed;
console.log({ entries: r.cache.size, bytesPerEvent: (h1 - h0) / N, bytesPerEntry: (h1 - h0) / r.cache.size });
