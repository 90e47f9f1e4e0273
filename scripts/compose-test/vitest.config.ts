import { defineConfig } from 'vitest/config';

// `pnpm test:compose` (run.sh) only: the Docker engine, images and daemon are run.sh's to make.
export default defineConfig({
  test: {
    include: ['scripts/compose-test/compose.test.ts'],
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 1_200_000,
    reporters: ['default', ['json', { outputFile: 'reports/compose.json' }]],
  },
});
