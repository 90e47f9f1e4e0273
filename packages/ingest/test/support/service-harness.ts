import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, type LogLevel, loadConfig, systemClock } from '@kafka-throttle/common';
import { testBrokers } from '../../../../test-support/kafka.ts';
import { createIngestService, type IngestService } from '../../src/ingest-service.ts';
import { createIngestKafkaClient } from '../../src/kafka-client.ts';

export interface RunningIngest {
  service: IngestService;
  url: string;
  topic: string;
}

/** The real ingest service (real config loading, real kafkajs) on a free port. */
export async function startIngest(env: Record<string, string>): Promise<RunningIngest> {
  const config = loadConfig({
    env: { INGEST_HOST: '127.0.0.1', INGEST_PORT: '0', ...env },
  });
  const logger = createLogger({
    level: (process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'silent',
    name: 'ingest-test',
  });
  const service = createIngestService({
    config,
    logger,
    kafka: createIngestKafkaClient(config, logger),
    clock: systemClock,
    processMetrics: false,
  });
  await service.start();
  return { service, url: `http://127.0.0.1:${service.port}`, topic: config.kafka.topic };
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status === 200;
  } catch {
    return false;
  }
}

/** Waits until the service at `url` answers 200 on /readyz. */
export function untilReady(url: string, timeoutMs = 60_000, what = 'readyz 200'): Promise<void> {
  return waitFor(() => isReady(url), timeoutMs, what);
}

/** `startIngest` against the run's broker, once it is ready; stopped again if it never is. */
export async function startReadyIngest(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunningIngest> {
  const ingest = await startIngest({ KAFKA_BROKERS: testBrokers().join(','), ...env });
  try {
    await untilReady(ingest.url, timeoutMs);
  } catch (error) {
    await ingest.service.stop();
    throw error;
  }
  return ingest;
}

export interface Answer {
  id: string;
  body: string;
  status: number;
  json: {
    status?: string;
    id?: string;
    partition?: number;
    offset?: string;
    error?: { code: string };
  };
  retryAfter: string | null;
}

/** POSTs one JSON body with its own Idempotency-Key; `timeoutMs` only guards against a hang. */
export async function postRecord(
  url: string,
  id: string,
  body: string,
  extraHeaders: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': id, ...extraHeaders },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return {
    id,
    body,
    status: response.status,
    json: (await response.json()) as Answer['json'],
    retryAfter: response.headers.get('retry-after'),
  };
}
