import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isAlive } from '../../scripts/kafka/broker.ts';
import { waitUntil } from './wait.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A pnpm script run the way a user runs it, in its own process group. */
export interface ScriptProcess {
  name: string;
  /** pnpm's pid: the leader of the process group (pnpm, tsx and the service). */
  groupPid: number;
  /** Every line of stdout and stderr so far. */
  readonly lines: readonly string[];
  /** The lines that are JSON objects (pino logs, log-sink deliveries), parsed. */
  readonly entries: readonly Record<string, unknown>[];
  readonly exit: ProcessExit | undefined;
  exited: Promise<ProcessExit>;
  /** Waits for a JSON line `match` accepts and returns it. */
  waitForEntry(
    what: string,
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  waitForLine(what: string, match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGKILL to the whole group: pnpm, tsx and the service die at once, like a crash. */
  kill(): Promise<ProcessExit>;
  /** Sends `signal` to one pid (by default the group) and waits for the group leader to exit. */
  signal(signal: NodeJS.Signals, pid?: number): Promise<ProcessExit>;
}

const running = new Set<ScriptProcess>();

/** Starts `pnpm <script> [args]` detached, so its whole process group can be signalled. */
export function runScript(
  name: string,
  script: string,
  args: readonly string[],
  env: Record<string, string | undefined>,
): ScriptProcess {
  // A variable given as undefined is removed, not passed on as the text "undefined".
  const merged = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(([, value]) => value !== undefined),
  );
  const child: ChildProcess = spawn('pnpm', ['--silent', script, ...args], {
    cwd: repoRoot,
    env: merged,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`could not spawn pnpm ${script}`);
  const groupPid = child.pid;
  const lines: string[] = [];
  const entries: Record<string, unknown>[] = [];
  let exit: ProcessExit | undefined;

  const onLine = (line: string): void => {
    lines.push(line);
    if (process.env.E2E_ECHO) process.stderr.write(`[${name}] ${line}\n`);
    if (!line.startsWith('{')) return;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        entries.push(value as Record<string, unknown>);
      }
    } catch {
      // not JSON after all
    }
  };
  const streamsClosed = [child.stdout, child.stderr].map(
    (stream) =>
      new Promise<void>((resolve) => {
        if (!stream) return resolve();
        const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
        reader.on('line', onLine);
        reader.once('close', resolve);
      }),
  );
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // The service may outlive pnpm for a moment; its lines still arrive until the pipes close.
      void Promise.race([Promise.all(streamsClosed), new Promise((r) => setTimeout(r, 5000))]).then(
        () => resolve({ code, signal }),
      );
    });
  });

  const handle: ScriptProcess = {
    name,
    groupPid,
    lines,
    entries,
    get exit() {
      return exit;
    },
    exited,
    async waitForEntry(what, match, timeoutMs = 60_000) {
      let found: Record<string, unknown> | undefined;
      await waitUntil(
        `${name}: ${what}`,
        () => {
          if (exit !== undefined && found === undefined) {
            found = entries.find(match);
            if (found === undefined) {
              throw new Error(
                `${name} exited (${JSON.stringify(exit)}) before ${what}; last lines:\n${lines.slice(-30).join('\n')}`,
              );
            }
          }
          found ??= entries.find(match);
          return found !== undefined;
        },
        timeoutMs,
      );
      return found as Record<string, unknown>;
    },
    async waitForLine(what, match, timeoutMs = 60_000) {
      let found: string | undefined;
      await waitUntil(
        `${name}: ${what}`,
        () => {
          found = lines.find(match);
          if (found === undefined && exit !== undefined) {
            throw new Error(
              `${name} exited (${JSON.stringify(exit)}) before ${what}; last lines:\n${lines.slice(-30).join('\n')}`,
            );
          }
          return found !== undefined;
        },
        timeoutMs,
      );
      return found as string;
    },
    async kill() {
      signalGroup(groupPid, 'SIGKILL');
      return exited;
    },
    async signal(signal, pid) {
      if (pid === undefined) signalGroup(groupPid, signal);
      else if (isAlive(pid)) process.kill(pid, signal);
      return exited;
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

function signalGroup(groupPid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupPid, signal);
  } catch {
    // the group is gone already
  }
}

/** For afterAll: nothing a test started may outlive it. */
export async function killAllScripts(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}
