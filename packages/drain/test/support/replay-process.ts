import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testBrokers } from '../../../../test-support/kafka.ts';

const tsx = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface ReplayRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsx scripts/replay.ts` as `pnpm replay` does, against the test broker. */
export function runReplayCommand(
  args: readonly string[],
  env: Record<string, string>,
): Promise<ReplayRun> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      ['scripts/replay.ts', ...args],
      {
        cwd: repoRoot,
        env: { ...process.env, KAFKA_BROKERS: testBrokers().join(','), LOG_LEVEL: 'warn', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
