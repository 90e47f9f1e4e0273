import { defineConfig } from 'vitest/config';

// Tests that check the rate at the destination measure arrival times, which CPU contention on a
// 2-core machine distorts. They run after everything else, one file at a time.
const timing = [
  'packages/drain/test/rate.test.ts',
  'packages/drain/test/group.test.ts',
  'e2e/original-scenario.test.ts',
  'e2e/scaling.test.ts',
  // Three brokers of their own, killed and restarted: heavy on 2 cores, so never alongside others.
  'e2e/cluster/**/*.test.ts',
];

export default defineConfig({
  test: {
    // One throwaway broker for the run; each test uses its own topics and groups.
    globalSetup: ['./test-support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'scripts/**/*.test.ts',
            'e2e/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', ...timing],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'timing',
          include: timing,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
