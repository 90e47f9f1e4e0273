import { hostname } from 'node:os';
import { type Admin, Kafka, type KafkaConfig, logLevel as KafkaLogLevel } from 'kafkajs';
import { retryWithBackoff } from './backoff.ts';
import { warnAboutUnreachableBrokers } from './bootstrap-check.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { controlTopicName } from './control/control-state.ts';
import { CommonError } from './errors.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import type { Logger } from './logger.ts';

export interface KafkaClientOptions {
  kafka: Config['kafka'];
  /** "ingest", "drain", …: part of the client id, so broker logs and quotas tell processes apart. */
  role: string;
  logger: Logger;
  /** Extra kafkajs settings (timeouts, retry) for a caller with special needs. */
  overrides?: Partial<KafkaConfig>;
}

/**
 * A kafkajs client whose own logs go through pino, with a client id unique to this process.
 * With several bootstrap addresses, each one that cannot be reached is named in a warning.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  void warnAboutUnreachableBrokers(options.kafka.brokers, log);
  return new Kafka({
    clientId: `${options.kafka.clientId}-${options.role}-${hostname()}-${process.pid}`,
    brokers: options.kafka.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(log, options.kafka.brokers),
    ...options.overrides,
  });
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries?: { name: string; value: string }[];
}

/** The request topic, its dead-letter topic and its control topic, as configured. */
export function configuredTopics(config: Pick<Config, 'kafka' | 'dlq'>): TopicSpec[] {
  const { partitions, replicationFactor, topic } = config.kafka;
  return [
    { topic, numPartitions: partitions, replicationFactor },
    { topic: config.dlq.topic, numPartitions: partitions, replicationFactor },
    // One partition: one order of changes. Compacted: the latest record of each key is the state.
    // Workers write their counts every second, so segments roll hourly (not weekly, Kafka's
    // default) and compaction keeps what a starting follower reads small.
    {
      topic: controlTopicName(topic),
      numPartitions: 1,
      replicationFactor,
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.ms', value: String(60 * 60 * 1000) },
        // The broker stamps every record with its own clock: drain workers measure their
        // clock's offset from the cluster's on the acks of their counts.
        { name: 'message.timestamp.type', value: 'LogAppendTime' },
      ],
    },
  ];
}

/**
 * Creates the topics that are missing and waits until every partition has a leader.
 * Safe to call from several processes at once: losing the creation race is success too.
 * Returns the names it created itself. Existing topics keep their partition count. Throws a
 * `topics_not_ready` CommonError when a partition still has no leader after about five seconds.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicSpec[],
  clock: Clock = systemClock,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  const created: string[] = [];
  for (const spec of missing) {
    try {
      // kafkajs's own wait gives up on "does not host this topic-partition", which a new topic
      // answers for a moment; ours below retries it.
      if (await admin.createTopics({ topics: [spec], waitForLeaders: false }))
        created.push(spec.topic);
    } catch (error) {
      if (!isTopicAlreadyExists(error)) throw error;
    }
  }
  await waitForLeaders(
    admin,
    topics.map((t) => t.topic),
    clock,
  );
  return created;
}

// A fresh topic's leaders are elected within a second or two; five seconds of checks is plenty.
const LEADER_CHECK = { initialMs: 100, maxMs: 100, jitter: 'none', maxAttempts: 50 } as const;

async function waitForLeaders(admin: Admin, topics: string[], clock: Clock): Promise<void> {
  await retryWithBackoff(
    async () => {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      const ready = metadata.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (!ready) {
        throw new CommonError('topics_not_ready', `topics ${topics.join(', ')} have no leader yet`);
      }
    },
    { ...LEADER_CHECK, clock },
  );
}

function isTopicAlreadyExists(error: unknown): boolean {
  const typed = error as { type?: string; errors?: { type?: string }[] };
  if (typed.type === 'TOPIC_ALREADY_EXISTS') return true;
  return (
    Array.isArray(typed.errors) && typed.errors.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')
  );
}
