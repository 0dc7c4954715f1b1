import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { tsLoaderUrl } from './test/support/ts-loader.ts';

/**
 * The tests that own processes: the CLI spawned (test/support/cli.ts), a real server
 * (InfluxDB, VictoriaMetrics, etcd and kube-apiserver, CoreDNS, helm), a network namespace
 * or a mount. A new test file that starts any of these belongs here (test/support/test-projects.test.ts
 * fails until it is); everything else is a unit test (in-process: pure functions, in-process
 * fakes on loopback, temp files).
 */
export const INTEGRATION = [
  'test/cli/**/*.test.ts',
  'test/config/env-aliases.test.ts',
  'test/daemon/**/*.test.ts',
  'test/deployment/**/*.test.ts',
  'test/dns/**/*.test.ts',
  'test/enrich/kube-apiserver-replay.test.ts',
  'test/enrich/kube-apiserver-watch.test.ts',
  'test/enrich/kube-config.test.ts',
  'test/enrich/kube-replay-cli.test.ts',
  'test/sinks/blocked-sink.test.ts',
  'test/sinks/cli-outputs.test.ts',
  'test/sinks/drain-timeout.test.ts',
  'test/sinks/line-protocol-escaping.test.ts',
  'test/sinks/partial-write.test.ts',
  'test/sinks/real-servers.test.ts',
  'test/sinks/spool-disk-full.test.ts',
  'test/sources/byte-input.test.ts',
  'test/sources/file-rotation.test.ts',
  'test/sources/dnstap/dnstap-listener.test.ts',
];

/**
 * Peak RSS and throughput of a CLI fed hundreds of thousands of events: CPU-bound child
 * processes whose 120 s deadlines do not hold with two of them beside other tests on a
 * loaded 2-core machine (115 s seen where alone it takes 17 s). One at a time, last.
 */
export const MEMORY = ['test/memory/**/*.test.ts'];

const cores = availableParallelism();

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Decoding threads started from the sources load TypeScript through it (pipeline/decode-stage.ts).
    env: { KOVENANT_TS_LOADER: tsLoaderUrl() },
    // Every file in its own process (forks), in both projects: process-wide state
    // (environment, signal handlers, the working directory) never leaks between files.
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...INTEGRATION, ...MEMORY],
          // CPU-bound and in-process: one file a core. Run first, so a broken pure
          // function fails in seconds, not after the servers.
          maxWorkers: cores,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          // Each file drives several processes (the CLI under tsx, a server), which need the
          // cores themselves and wait on each other (start-up, flushes, signals): two files
          // at a time keep a 2-core machine busy without starving the processes whose
          // deadlines the tests check; a bigger machine takes one more file per two cores.
          // They may run beside each other: every server takes its own loopback port and
          // data directory (test/support/servers.ts), every lab its own uniquely named
          // namespaces (test/support/netns.ts), whose conntrack entries and sysctls are its alone.
          maxWorkers: Math.max(2, Math.floor(cores / 2) + 1),
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'memory',
          include: MEMORY,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
    // `npm run coverage`: which source lines the tests run (text summary, HTML in coverage/).
    coverage: { provider: 'v8', include: ['src/**/*.ts'], reporter: ['text-summary', 'html'] },
  },
});
