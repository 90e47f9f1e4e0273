import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isAlive } from '../kafka/broker.ts';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunningService {
  name: string;
  pid: number;
  /** Resolves when the process has exited and its output is fully read. */
  exited: Promise<ServiceExit>;
  /** SIGTERM (the services stop gracefully on it), SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<ServiceExit>;
}

export interface ServiceOptions {
  name: string;
  /** The service's main.ts, run by Node with tsx's loader. */
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (line: string) => void;
}

/**
 * Runs one service as a child process, each line of its stdout and stderr handed to `onLine`.
 * `node --import tsx` rather than the tsx CLI keeps it one process, so the pid we report and
 * signal is the service itself. Its own process group keeps a terminal's Ctrl-C away from it:
 * `pnpm start` decides the order things stop in; the orphan guard stops it should `pnpm start`
 * be killed outright.
 */
const orphanGuard = new URL('./orphan-guard.ts', import.meta.url).href;

export function startService(options: ServiceOptions): RunningService {
  const args = ['--import', 'tsx', '--import', orphanGuard, options.script];
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { ...options.env, KAFKA_THROTTLE_START_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  const pid = child.pid;

  const streamsDone = [child.stdout, child.stderr].map(
    (stream) =>
      new Promise<void>((resolve) => {
        const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
        lines.on('line', options.onLine);
        lines.once('close', resolve);
      }),
  );
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => {
      void Promise.all(streamsDone).then(() => resolve({ code, signal }));
    });
    child.once('error', () => resolve({ code: null, signal: null }));
  });

  return {
    name: options.name,
    pid,
    exited,
    async stop(graceMs) {
      if (isAlive(pid)) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (isAlive(pid)) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
