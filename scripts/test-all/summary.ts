import { existsSync, readFileSync } from 'node:fs';

export interface Summary {
  passed: number;
  failed: number;
  /** Why a report counted as a failure of its own (missing, or failed outside its tests). */
  problems: string[];
}

/**
 * Sums vitest's JSON reports (one per run: the main suite, the cluster, the Docker test) into
 * the one closing count CI logs are read by. A report that is missing means its run never got
 * to its tests, and one whose run failed outside any test (a setup that threw): each counts as
 * one failure.
 */
export function summarize(paths: readonly string[]): Summary {
  const summary: Summary = { passed: 0, failed: 0, problems: [] };
  for (const path of paths) {
    if (!existsSync(path)) {
      summary.problems.push(`${path} is missing: that test run did not get to its tests`);
      summary.failed += 1;
      continue;
    }
    const report = JSON.parse(readFileSync(path, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      success?: boolean;
    };
    summary.passed += report.numPassedTests;
    summary.failed += report.numFailedTests;
    if (report.success === false && report.numFailedTests === 0) {
      summary.problems.push(`${path}: the run failed outside its tests`);
      summary.failed += 1;
    }
  }
  return summary;
}
