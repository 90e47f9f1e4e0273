import { randomUUID } from 'node:crypto';
import { testBrokers, uniqueName } from '../../test-support/kafka.ts';
import { type Destination, startDestination } from './destination.ts';
import { type Service, startService } from './services.ts';

export interface SteeredGroupOptions {
  /** Names the topic and the group: `<name>` and `<name>-group`, made unique. */
  name: string;
  partitions: number;
  /** The group's rate: `limit` per `periodMs`. */
  limit: number;
  periodMs: number;
  /** The destination fails the first attempt of every Nth message (see destination-server). */
  failFirstAttemptEvery?: number;
}

/**
 * What the steering tests share: a recording destination, `pnpm ingest` with its admin server
 * (a fresh token, any free port) and the environment every `pnpm drain` of the group gets.
 * Workers are started by the test (`startWorkers`), when it wants them.
 */
export interface SteeredGroup {
  destination: Destination;
  ingest: Service;
  adminPort: number;
  token: string;
  topic: string;
  group: string;
  env: Record<string, string>;
  workers: Service[];
  /** Starts `pnpm drain` workers by name, side by side; `extraEnv` is added to the group's. */
  startWorkers(names: readonly string[], extraEnv?: Record<string, string>): Promise<Service[]>;
  /** Stops every worker still running, ingest unless stopped already, and the destination. */
  stop(): Promise<void>;
}

export async function startSteeredGroup(options: SteeredGroupOptions): Promise<SteeredGroup> {
  const destination = await startDestination({
    ...(options.failFirstAttemptEvery
      ? { failFirstAttemptEvery: options.failFirstAttemptEvery }
      : {}),
  });
  const topic = uniqueName(options.name);
  const group = uniqueName(`${options.name}-group`);
  const token = `${options.name}-${randomUUID()}`;
  const env = {
    KAFKA_BROKERS: testBrokers().join(','),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: String(options.partitions),
    DRAIN_GROUP: group,
    RATE_MESSAGES: String(options.limit),
    RATE_PERIOD: `${options.periodMs}ms`,
    SINK: 'http',
    SINK_URL: destination.url,
    ADMIN_TOKEN: token,
    ADMIN_PORT: '0',
  };
  const ingest = await startService('ingest', env);
  const adminPort = Number(
    (await ingest.waitForEntry('admin listening', (e) => e.msg === 'admin server listening')).port,
  );
  const workers: Service[] = [];
  return {
    destination,
    ingest,
    adminPort,
    token,
    topic,
    group,
    env,
    workers,
    async startWorkers(names, extraEnv = {}) {
      const started = await Promise.all(
        names.map((name) => startService('drain', { ...env, ...extraEnv }, name)),
      );
      workers.push(...started);
      return started;
    },
    async stop() {
      for (const worker of workers) if (worker.exit === undefined) await worker.stop();
      if (ingest.exit === undefined) await ingest.stop();
      await destination.close();
    },
  };
}
