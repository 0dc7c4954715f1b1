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
    // `npm run coverage`: which source lines the tests run (text summary, HTML in coverage/).
    coverage: { provider: 'v8', include: ['src/**/*.ts'], reporter: ['text-summary', 'html'] },
  },
});
