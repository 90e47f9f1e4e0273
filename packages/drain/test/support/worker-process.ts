import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testBrokers } from '../../../../test-support/kafka.ts';
import { eachLine } from '../../../../test-support/lines.ts';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const tsx = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));

/** One parsed stdout line of a worker (pino JSON); `at` is its `time` as epoch ms. */
export interface LogLine {
  at: number;
  msg: string;
  fields: Record<string, unknown>;
}

export interface WorkerProcess {
  name: string;
  pid: number;
  lines: LogLine[];
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number). */
  exited: Promise<number>;
  /** Resolves once a log line with this `msg` appears after `since` (epoch ms). */
  waitForLog(msg: string, timeoutMs: number, since?: number): Promise<LogLine>;
  /** Sends a signal to the whole process group (tsx and the node process it runs). */
  signal(signal: NodeJS.Signals): void;
  /**
   * SIGTERM to the worker's own node process (its pid is in its log lines), as an orchestrator
   * stopping the container would. Not to tsx: tsx relays a signal it gets and, if the child does
   * not acknowledge within 30 ms (a busy event loop on a loaded machine), SIGKILLs it.
   */
  terminate(): void;
}

/**
 * Runs `tsx packages/drain/src/main.ts` as `pnpm drain` does, in its own process group so a
 * test can stop or kill it, and everything it started, at once.
 */
export function spawnWorker(name: string, env: Record<string, string>): WorkerProcess {
  const child: ChildProcess = spawn(tsx, ['packages/drain/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid as number;
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  eachLine(child.stdout, (text) => {
    const line = parse(text);
    if (line) lines.push(line);
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 0));
    });
  });

  return {
    name,
    pid,
    lines,
    stderr: () => stderr,
    exited,
    waitForLog(msg, timeoutMs, since = 0) {
      const find = (): LogLine | undefined => lines.find((l) => l.msg === msg && l.at >= since);
      return new Promise((resolve, reject) => {
        const found = find();
        if (found) return resolve(found);
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name}: no "${msg}" log line after ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs);
        function check(): void {
          const line = find();
          if (!line) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(line);
        }
        listeners.add(check);
      });
    },
    signal(signal) {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is already gone
      }
    },
    terminate() {
      const workerPid = Number(lines.find((l) => typeof l.fields.pid === 'number')?.fields.pid);
      try {
        if (Number.isInteger(workerPid)) process.kill(workerPid, 'SIGTERM');
        else process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

function parse(text: string): LogLine | undefined {
  try {
    const fields = JSON.parse(text) as Record<string, unknown>;
    const at = Date.parse(String(fields.time));
    return { at, msg: String(fields.msg), fields };
  } catch {
    return undefined;
  }
}

/** Env for a worker against the test broker; `extra` wins. */
export function workerEnv(extra: Record<string, string>): Record<string, string> {
  return {
    KAFKA_BROKERS: testBrokers().join(','),
    LOG_LEVEL: 'info',
    DRAIN_PORT: '0',
    DRAIN_HOST: '127.0.0.1',
    ...extra,
  };
}

/**
 * Env for a worker that drains the topic `names` point at into `sink` at `messages` per
 * `periodMs`, logging at debug so that its attempt start times can be read (`attemptStarts`).
 */
export function pacedWorkerEnv(
  names: Record<string, string>,
  sink: Record<string, string>,
  messages: number,
  periodMs: number,
): Record<string, string> {
  return workerEnv({
    ...names,
    ...sink,
    RATE_MESSAGES: String(messages),
    RATE_PERIOD: `${periodMs}ms`,
    LOG_LEVEL: 'debug',
  });
}

/** Start times (epoch ms, sub-millisecond) of every attempt in these logs, sorted. */
export function attemptStarts(lines: readonly LogLine[]): number[] {
  return lines
    .filter((l) => l.msg === 'attempt')
    .map((l) => Number(l.fields.startedAt))
    .sort((a, b) => a - b);
}
