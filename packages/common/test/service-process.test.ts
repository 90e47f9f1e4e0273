import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eachLine } from '../../../test-support/lines.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./support/service-script.ts', import.meta.url));
const children: ChildProcess[] = [];

interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

interface Running {
  child: ChildProcess;
  lines: LogLine[];
  /** The exit code; a death by signal (which the helper should never leave) shows as its name. */
  exited: Promise<number | string>;
  waitFor(msg: string): Promise<LogLine>;
}

/** The stand-in service as a real node process, signals going straight to it (no tsx wrapper). */
function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: LogLine[] = [];
  eachLine(child.stdout, (text) => {
    if (text.startsWith('{')) lines.push(JSON.parse(text));
    child.emit('lines');
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  return {
    child,
    lines,
    exited,
    async waitFor(msg) {
      for (;;) {
        const found = lines.find((l) => l.msg === msg);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`exited before a "${msg}" line`);
        await Promise.race([once(child, 'lines'), once(child, 'exit')]);
      }
    },
  };
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

describe('runServiceProcess, in a real process', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'stops cleanly on %s: exit 0',
    async (signal) => {
      const service = run({});
      await service.waitFor('service started');
      service.child.kill(signal);
      expect(await service.exited).toBe(0);
      const stopping = await service.waitFor('stopping');
      expect(stopping).toMatchObject({ signal, timeoutMs: 30_000 });
      expect(service.lines.map((l) => l.msg)).toContain('service stop called');
    },
  );

  it.each([
    ['SIGTERM', 'SIGINT', 130],
    ['SIGINT', 'SIGTERM', 143],
    ['SIGTERM', 'SIGHUP', 129],
  ] as const)(
    'exits at once on a second signal: %s then %s gives %i',
    async (first, second, code) => {
      const service = run({ STOP: 'hang' });
      await service.waitFor('service started');
      service.child.kill(first);
      await service.waitFor('service stop called');
      service.child.kill(second);
      expect(await service.exited).toBe(code);
      expect(await service.waitFor('second signal: exiting at once')).toMatchObject({
        signal: second,
        exitCode: code,
      });
    },
  );

  it('exits 3 when the graceful stop overruns its timeout', async () => {
    const service = run({ STOP: 'hang', SHUTDOWN_TIMEOUT_MS: '300' });
    await service.waitFor('service started');
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(3);
    expect(await service.waitFor('graceful stop took too long')).toMatchObject({
      timeoutMs: 300,
      exitCode: 3,
    });
  });

  it.each([
    ['a start that fails', { START: 'fail' }, undefined, 'could not start', 'cannot start: test'],
    [
      'an uncaught exception',
      { START: 'throw-later' },
      undefined,
      'crashed: uncaught exception',
      'boom: test',
    ],
    ['a stop that fails', { STOP: 'fail' }, 'SIGTERM', 'graceful stop failed', 'cannot stop: test'],
  ] as const)('exits 1 with one fatal line after %s', async (_name, env, signal, msg, error) => {
    const service = run(env);
    if (signal) {
      await service.waitFor('service started');
      service.child.kill(signal);
    }
    expect(await service.exited).toBe(1);
    const fatal = service.lines.filter((l) => l.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ msg, exitCode: 1, err: { message: error } });
  });
});
