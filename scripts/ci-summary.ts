import { existsSync, readFileSync } from 'node:fs';

// Prints vitest's JSON report as the single closing line CI logs are read by: "N passed, M failed".
const path = process.argv[2] ?? 'reports/vitest.json';
if (!existsSync(path)) {
  console.log('0 passed, 0 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(path, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTests: number;
};
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed`);
process.exit(report.numFailedTests === 0 && report.numTotalTests > 0 ? 0 : 1);
