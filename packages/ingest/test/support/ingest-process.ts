import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { waitFor } from './service-harness.ts';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

export interface LogLine {
  msg?: string;
  level?: number;
  port?: number;
  pid?: number;
  worker?: number;
  role?: string;
  path?: string;
  status?: number;
}

export interface IngestProcess {
  child: ChildProcess;
  lines: () => LogLine[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `pnpm ingest` as a real process: node with tsx, the way the root script runs it. */
export function spawnIngest(env: Record<string, string>, args: string[] = []): IngestProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/ingest/src/main.ts', ...args],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', INGEST_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    exited,
    stderr: () => stderr,
    lines: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine),
  };
}

/**
 * `spawnIngest` for the calling test file: every process it started that still runs after a
 * test is killed. Call it at the top level of the file.
 */
export function ingestProcesses(): (env: Record<string, string>, args?: string[]) => IngestProcess {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return (env, args) => {
    const started = spawnIngest(env, args);
    children.push(started.child);
    return started;
  };
}

/** The URL once the process logged "ingest listening" (the primary, with several workers). */
export async function listeningUrl(started: IngestProcess): Promise<string> {
  const listening = () => started.lines().find((l) => l.msg === 'ingest listening');
  await waitFor(() => listening() !== undefined, 90_000, 'the "ingest listening" line');
  return `http://127.0.0.1:${listening()?.port}`;
}

export interface PostResult {
  status: number | 'error';
  id: string;
}

/**
 * POSTs one record on a connection of its own, so the cluster hands it to the next worker
 * (a pooled keep-alive connection would stay with one worker).
 */
export function postOnNewConnection(url: string, id: string): Promise<PostResult> {
  return new Promise((resolve) => {
    const req = request(
      `${url}/`,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'idempotency-key': id, connection: 'close' },
        timeout: 30_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, id }));
        res.on('error', () => resolve({ status: 'error', id }));
      },
    );
    req.on('error', () => resolve({ status: 'error', id }));
    req.on('timeout', () => req.destroy());
    req.end(JSON.stringify({ id }));
  });
}

/** Sums the samples of one metric whose label set contains `labels` (e.g. `status="202"`). */
export function metricSum(text: string, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!labels.every((label) => line.includes(label))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
