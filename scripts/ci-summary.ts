import { existsSync, readFileSync } from 'node:fs';

// Prints vitest's JSON reports (one or more: `pnpm test`'s and `pnpm test:compose`'s) as the
// single closing line CI logs are read by: "N passed, M failed". A report that is missing means
// its run never got to its tests; it counts as one failure.
const paths = process.argv.length > 2 ? process.argv.slice(2) : ['reports/vitest.json'];
let passed = 0;
let failed = 0;
let total = 0;
for (const path of paths) {
  if (!existsSync(path)) {
    console.error(`${path} is missing: that test run did not get to its tests`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(path, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTests: number;
    success?: boolean;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  total += report.numTotalTests;
  // An error outside any test (a setup that threw) fails the run without failing a test.
  if (report.success === false && report.numFailedTests === 0) {
    console.error(`${path}: the run failed outside its tests`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && total > 0 ? 0 : 1);
