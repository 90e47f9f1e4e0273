import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../scripts/kafka/broker.ts';
import { nodeProcessCount } from './process-tree-cpu.ts';

/**
 * The servers bench/ingest.ts loads, each a child process started as in production: ingest
 * (`packages/ingest/src/main.ts`, one process or a primary with its workers) and the bare Koa
 * baseline (bench/ingest-bare-koa.ts).
 */

export interface Server {
  /** The row's letter in the report, as "(a)". */
  id: string;
  /** The row's label in the report, starting with its id. */
  name: string;
  url: string;
  child: ChildProcess;
  /** The Kafka this server writes to (undefined for the baseline), to count what it stored. */
  bootstrap?: string;
  /** The broker JVMs whose CPU counts for this server. */
  brokerPids: number[];
}

export interface IngestOptions {
  bootstrap: string;
  brokerPids: number[];
  topic: string;
  /** `ingest.workers`: 'auto' or a number, passed explicitly whatever the default is. */
  workers: string;
  replicas: number;
  partitions: string;
  linger: string;
  /** Where to write CPU profiles (`--cpu-prof`, one file per process), if at all. */
  profileDir?: string;
  id: string;
  /** What the row is, before its workers: "ingest, 3 brokers". */
  label: string;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const children: ChildProcess[] = [];

export async function startIngest(options: IngestOptions): Promise<Server> {
  const port = await freePort();
  const child = spawnNode(
    'packages/ingest/src/main.ts',
    {
      KAFKA_BROKERS: options.bootstrap,
      KAFKA_TOPIC: options.topic,
      KAFKA_PARTITIONS: options.partitions,
      KAFKA_REPLICATION_FACTOR: String(options.replicas),
      INGEST_PORT: String(port),
      INGEST_HOST: '127.0.0.1',
      INGEST_LINGER: options.linger,
      INGEST_WORKERS: options.workers,
      LOG_LEVEL: 'warn',
    },
    options.profileDir,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200);
  return {
    id: options.id,
    name: `${options.id} ${options.label}, ${workersText(options.workers, child.pid)}`,
    url,
    child,
    bootstrap: options.bootstrap,
    brokerPids: options.brokerPids,
  };
}

export async function startBare(profileDir?: string): Promise<Server> {
  const port = await freePort();
  const child = spawnNode('bench/ingest-bare-koa.ts', { BARE_PORT: String(port) }, profileDir);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url, { method: 'POST', body: '{}' })).status === 202);
  return { id: '(b)', name: '(b) bare Koa, no Kafka', url, child, brokerPids: [] };
}

/** Graceful stop (SIGTERM), as a user's Ctrl-C: ingest's primary stops its workers first. */
export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  await once(server.child, 'exit');
}

/** For a failed run: ingest's workers end on their own once their primary is gone. */
export function killLeftovers(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** "workers=auto: 2 processes", counted from /proc once the service is ready. */
function workersText(workers: string, pid: number | undefined): string {
  const processes = pid === undefined ? 0 : nodeProcessCount(pid);
  const workerCount = processes > 1 ? processes - 1 : processes;
  return workers === String(workerCount)
    ? `workers=${workers}`
    : `workers=${workers} (${workerCount})`;
}

function spawnNode(
  script: string,
  env: Record<string, string>,
  profileDir: string | undefined,
): ChildProcess {
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the server did not become ready');
    await sleep(200);
  }
}
