import { Writable } from 'node:stream';
import {
  type Clock,
  type Config,
  createKafkaClient,
  createLogger,
  loadConfig,
} from '@kafka-throttle/common';
import { logLevel } from 'kafkajs';
import { testBrokers } from '../../../../test-support/kafka.ts';
import { createDrainWorker, type DrainTuning, type DrainWorker } from '../../src/index.ts';

/** A parsed log line of an in-process worker. */
export type LogRecord = Record<string, unknown> & { msg: string };

export interface StartedWorker {
  worker: DrainWorker;
  config: Config;
  logs: LogRecord[];
  /** Start times (epoch ms, sub-millisecond) of every attempt, from the worker's own log. */
  attemptStarts(): number[];
}

/**
 * A drain worker in this process, configured as `pnpm drain` would be from `env`, against the
 * test broker, logging at debug into memory so a test can read what it did.
 */
export function inProcessWorker(
  env: Record<string, string>,
  tuning?: Partial<DrainTuning>,
  clock?: Clock,
): StartedWorker {
  const config = loadConfig({
    env: {
      KAFKA_BROKERS: testBrokers().join(','),
      DRAIN_PORT: '0',
      DRAIN_HOST: '127.0.0.1',
      ...env,
    },
  });
  const logs: LogRecord[] = [];
  let partial = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) logs.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', name: 'drain', destination });
  const kafka = createKafkaClient({
    kafka: config.kafka,
    role: 'drain-test',
    logger,
    overrides: { logLevel: logLevel.WARN },
  });
  const worker = createDrainWorker({
    config,
    logger,
    kafka,
    ...(tuning ? { tuning } : {}),
    ...(clock ? { clock } : {}),
  });
  return {
    worker,
    config,
    logs,
    attemptStarts: () =>
      logs
        .filter((l) => l.msg === 'attempt')
        .map((l) => Number(l.startedAt))
        .sort((a, b) => a - b),
  };
}

/**
 * Starts `worker`, runs `body`, then, whatever happened, stops the worker and closes the
 * destination; resolves with what `body` resolved with.
 */
export async function whileDraining<T>(
  worker: DrainWorker,
  destination: { close(): Promise<void> },
  body: () => Promise<T>,
): Promise<T> {
  await worker.start();
  try {
    return await body();
  } finally {
    await worker.stop();
    await destination.close();
  }
}
