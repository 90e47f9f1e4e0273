import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = `
import { loadConfigOrExit } from './packages/common/src/index.ts';
const config = loadConfigOrExit({ env: process.env, args: process.argv.slice(1) });
console.log(JSON.stringify(config.rate));
`;

function start(env: Record<string, string>, args: string[] = []) {
  return spawnSync(
    'node',
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    },
  );
}

describe('loadConfigOrExit, as a service main.ts uses it', () => {
  it('stops the process with exit code 2 and one line naming the key, value and expectation', () => {
    const run = start({ RATE_MESSAGES: 'abc' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('rate.messages: must be a positive integer, got "abc"');
    expect(run.stdout).toBe('');
  });

  it('runs on with a valid configuration from the environment and the command line', () => {
    const run = start({ RATE_MESSAGES: '7' }, ['--rate.period=250ms']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ messages: 7, period: 250, burst: 7, margin: 5 });
  });
});
