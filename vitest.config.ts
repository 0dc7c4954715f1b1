import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that own real servers, network namespaces or the conntrack table must not
    // run beside each other: they share the kernel's conntrack table and loopback ports.
    fileParallelism: true,
    pool: 'forks',
  },
});
