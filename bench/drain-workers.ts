import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));

export interface WorkerChild {
  /** Every JSON line the worker printed (parsed lazily: call lines() after the run). */
  lines(): Record<string, unknown>[];
  /** Resolves when a line with this msg appeared. */
  waitFor(
    msg: string,
    timeoutMs: number,
    match?: (line: Record<string, unknown>) => boolean,
  ): Promise<void>;
  stop(): Promise<void>;
}

/** `pnpm drain` as a child process in its own process group. */
export function spawnDrainWorker(env: Record<string, string>): WorkerChild {
  const child: ChildProcess = spawn(tsx, ['packages/drain/src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let stderr = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
  });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => chunks.push(chunk));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  let parsed: Record<string, unknown>[] | undefined;
  let parsedChunks = 0;
  const lines = (): Record<string, unknown>[] => {
    if (parsed && parsedChunks === chunks.length) return parsed;
    parsed = [];
    for (const text of chunks.join('').split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        parsed.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        // a line cut off at the end
      }
    }
    parsedChunks = chunks.length;
    return parsed;
  };
  return {
    lines,
    async waitFor(msg, timeoutMs, match = () => true) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        // Only the tail is searched while waiting: the logs can be long.
        const tail = chunks.slice(-50).join('');
        if (tail.includes(`"msg":"${msg}"`) && lines().some((l) => l.msg === msg && match(l))) {
          return;
        }
        if (exited) throw new Error(`worker exited before "${msg}":\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no "${msg}" from a worker after ${timeoutMs} ms\n${stderr}`);
    },
    async stop() {
      const pid = Number(lines().find((l) => typeof l.pid === 'number')?.pid);
      try {
        if (Number.isInteger(pid)) process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exit;
      clearTimeout(timer);
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the whole group is gone
      }
    },
  };
}
