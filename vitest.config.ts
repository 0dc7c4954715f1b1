import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Test files run beside each other, each in its own process (forks), so process-wide
    // state (environment, signal handlers) never leaks between files. The tests that own
    // real servers or network namespaces are written for that: every server takes its own
    // loopback port and data directory (test/support/servers.ts), every lab its own
    // uniquely named namespaces (test/support/netns.ts), whose conntrack entries and
    // sysctls are theirs alone.
    fileParallelism: true,
    pool: 'forks',
    // `npm run coverage`: which source lines the tests run (text summary, HTML in coverage/).
    coverage: { provider: 'v8', include: ['src/**/*.ts'], reporter: ['text-summary', 'html'] },
  },
});
