import { defineConfig } from 'vitest/config';

// Tests that need no Kafka: pure logic beside its source, the scripts' own logic, and process
// tests that spawn no broker. `pnpm test:unit` runs only these, without starting a broker.
const brokerFreeProcessTests = [
  'packages/common/test/config-or-exit.test.ts',
  'packages/common/test/service-process.test.ts',
];
// The pacing simulation and the shared test helpers are pure logic too.
const pureTestSupport = ['packages/drain/test/pacing/**/*.test.ts', 'test-support/**/*.test.ts'];
const unit = [
  'packages/*/src/**/*.test.ts',
  'scripts/**/*.test.ts',
  ...brokerFreeProcessTests,
  ...pureTestSupport,
];
// scripts/kafka starts brokers of its own: not a unit test. The compose test needs a Docker
// engine: `pnpm test:compose` runs it (scripts/compose-test/vitest.config.ts).
const unitExclude = ['scripts/kafka/**', 'scripts/compose-test/**'];

// Tests that check the rate at the destination measure arrival times, which CPU contention on a
// 2-core machine distorts. They run after everything else, one file at a time.
const timing = [
  'packages/drain/test/rate.test.ts',
  'packages/drain/test/group.test.ts',
  'packages/drain/test/crash.test.ts',
  'packages/drain/test/saturated-retries.test.ts',
  'packages/drain/test/take-over.test.ts',
  'e2e/original-scenario.test.ts',
  'e2e/burst-one.test.ts',
  'e2e/scaling.test.ts',
  'e2e/control.test.ts',
  'e2e/live-page.test.ts',
];

// One throwaway broker for the run (shared by the projects that need one); each test uses its
// own topics and groups. Not on the root config: vitest runs the root's global setup for every
// run, `--project unit` included.
const kafka = { globalSetup: ['./test-support/global-setup.ts'] };

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: unit,
          exclude: ['**/node_modules/**', ...unitExclude],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          ...kafka,
          name: 'main',
          include: [
            'packages/*/test/**/*.test.ts',
            'scripts/kafka/**/*.test.ts',
            'e2e/**/*.test.ts',
          ],
          exclude: [
            '**/node_modules/**',
            'e2e/cluster/**',
            ...brokerFreeProcessTests,
            ...pureTestSupport,
            ...timing,
          ],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          ...kafka,
          name: 'timing',
          include: timing,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { singleFork: true } },
          // On two shared cores a destination's arrival stamps sometimes spread by more than the
          // guard (a burst of N requests processed one after another, unevenly from one period
          // to the next), and a window at the destination then holds a few more than N while
          // the workers' own starts are within N. Such a test runs once more; one that fails
          // twice fails the run. The starts are checked exactly every time.
          retry: 1,
        },
      },
    ],
  },
});
