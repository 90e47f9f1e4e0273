import { defineConfig } from 'vitest/config';

// `pnpm test:cluster` (the second step of `pnpm test`): three brokers of its own, killed and
// restarted under load, about five minutes on a two-core machine.
export default defineConfig({
  test: {
    include: ['e2e/cluster/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    testTimeout: 600_000,
    hookTimeout: 600_000,
    reporters: ['default', ['json', { outputFile: 'reports/cluster.json' }]],
  },
});
