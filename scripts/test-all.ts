import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './test-all/summary.ts';

/**
 * `npm test` / `pnpm test`: every test there is, in an order that keeps them from disturbing
 * each other, and one closing line, "N passed, M failed", over all of them:
 *   1. `test:main`: lint, typecheck, build, the compose check, then the suite against one
 *      throwaway broker (its timing tests last, one file at a time);
 *   2. `test:cluster`: broker failures on a three-node cluster of its own;
 *   3. `test:compose`: the Dockerfile and docker-compose.yml run by a Docker engine it installs
 *      (root; last, because an engine and its builds load the machine).
 * A step that fails does not stop the next: one run says everything that is wrong.
 */
const root = fileURLToPath(new URL('../', import.meta.url));
const STEPS = [
  { script: 'test:main', report: 'reports/vitest.json' },
  { script: 'test:cluster', report: 'reports/cluster.json' },
  { script: 'test:compose', report: 'reports/compose.json' },
] as const;

for (const { report } of STEPS) rmSync(join(root, report), { force: true });
let status = 0;
for (const { script } of STEPS) {
  const result = spawnSync('pnpm', ['run', script], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) status = 1;
}
const summary = summarize(STEPS.map(({ report }) => join(root, report)));
for (const problem of summary.problems) console.error(problem);
console.log(`${summary.passed} passed, ${summary.failed} failed`);
process.exit(status === 0 && summary.failed === 0 && summary.passed > 0 ? 0 : 1);
