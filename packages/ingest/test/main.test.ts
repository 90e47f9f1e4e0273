import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/kafka/broker.ts';
import { testBrokers, uniqueName } from '../../../test-support/kafka.ts';
import { postRecord, untilReady, waitFor } from './support/service-harness.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  lines: () => { msg?: string; level?: number; port?: number }[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `pnpm ingest` as a real process: node with tsx, the way the root script runs it. */
function runIngest(env: Record<string, string>, args: string[] = []): Started {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'packages/ingest/src/main.ts', ...args],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', INGEST_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
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
        .map((line) => JSON.parse(line)),
  };
}

async function listeningUrl(started: Started): Promise<string> {
  await waitFor(
    () => started.lines().some((l) => l.msg === 'ingest listening'),
    60_000,
    'the "ingest listening" line',
  );
  const port = started.lines().find((l) => l.msg === 'ingest listening')?.port;
  return `http://127.0.0.1:${port}`;
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

describe('pnpm ingest (main.ts)', () => {
  it('exits 2 naming the key when the configuration is invalid', async () => {
    const started = runIngest({ INGEST_PORT: 'eighty' });
    expect(await started.exited).toBe(2);
    expect(started.stderr()).toContain('ingest.port');
  });

  it.each([
    ['RATE_MESSAGES', '9007199254740993', 'rate.messages'],
    ['KAFKA_TOPIC', '..', 'kafka.topic'],
    ['KAFKA_BROKERS', '127.0.0.1:99999', 'kafka.brokers'],
    ['NODE_ENV', '../../../tmp/x', 'NODE_ENV'],
  ])('exits 2 with one line, no stack trace, for %s=%s', async (name, value, key) => {
    const started = runIngest({ [name]: value });
    expect(await started.exited).toBe(2);
    const lines = started.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${key}: must be .*, got `));
  });

  it('stays up without Kafka, answering 503, and exits 0 on SIGTERM', async () => {
    const nobody = await freePort();
    const started = runIngest({
      KAFKA_BROKERS: `127.0.0.1:${nobody}`,
      INGEST_PORT: '0',
      INGEST_ACK_TIMEOUT: '1s',
    });
    const url = await listeningUrl(started);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    const answer = await postRecord(url, 'no-kafka', '{"a":1}');
    expect(answer.status).toBe(503);
    expect(answer.json.error?.code).toBe('kafka_unavailable');
    expect(started.child.exitCode).toBeNull();

    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const messages = started.lines().map((l) => l.msg);
    expect(messages).toContain('stopping');
    expect(messages).toContain('ingest stopped');
  });

  it('accepts records from a real broker and exits 0 on SIGINT', async () => {
    const started = runIngest({
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('main'),
      INGEST_PORT: '0',
    });
    const url = await listeningUrl(started);
    await untilReady(url);
    expect((await postRecord(url, 'from-main', '{"main":true}')).status).toBe(202);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect(metrics).toContain('nodejs_eventloop_lag_seconds');

    started.child.kill('SIGINT');
    expect(await started.exited).toBe(0);
    // One info line per start and stop; request lines only at debug level.
    const info = started.lines().filter((l) => (l.level ?? 0) >= 30 && l.msg?.includes('request'));
    expect(info).toEqual([]);
  });
});
