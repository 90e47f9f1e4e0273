import { defineConfig } from 'vitest/config';

// `pnpm test:cluster` only: three brokers of its own, killed and restarted under load, about five
// minutes on a two-core machine. Whether three more JVMs belong in every `pnpm test` is a
// decision about CI time, taken apart from the tests.
export default defineConfig({
  test: {
    include: ['e2e/cluster/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
