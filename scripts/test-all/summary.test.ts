import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { summarize } from './summary.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'summary-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function report(name: string, passed: number, failed: number, success = failed === 0) {
  const path = join(dir, name);
  await writeFile(
    path,
    JSON.stringify({ numPassedTests: passed, numFailedTests: failed, success }),
  );
  return path;
}

describe('the closing count over every test run', () => {
  it('adds the runs up', async () => {
    const paths = [await report('a.json', 600, 0), await report('b.json', 3, 1)];
    expect(summarize(paths)).toEqual({ passed: 603, failed: 1, problems: [] });
  });

  it('counts a run that never got to its tests, or failed outside them, as a failure', async () => {
    const paths = [
      await report('a.json', 10, 0),
      await report('b.json', 4, 0, false),
      join(dir, 'missing.json'),
    ];
    const summary = summarize(paths);
    expect([summary.passed, summary.failed]).toEqual([14, 2]);
    expect(summary.problems.join('\n')).toMatch(/b\.json: the run failed outside its tests/);
    expect(summary.problems.join('\n')).toMatch(/missing\.json is missing/);
  });
});
