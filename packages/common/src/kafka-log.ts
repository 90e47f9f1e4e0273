import { logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import type { Logger } from './logger.ts';

type PinoLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * Broker answers kafkajs logs at ERROR although they are a normal part of a fresh cluster, a new
 * topic or a new group: kafkajs retries them and the caller only sees an error if the retries run
 * out. At ERROR they would make a healthy start look broken, so they go to debug.
 */
const TRANSIENT_RESPONSE_ERRORS = [
  /coordinator is loading/i, // __consumer_offsets / transaction log still being loaded
  /group coordinator is not available/i, // __consumer_offsets being created on first use
  /is not the correct coordinator/i, // coordinator moved; kafkajs looks it up again
  /^Topic creation errors$/, // losing a creation race to another process: ensureTopics' success
  /does not host this topic-partition/i, // metadata of a topic created a moment ago
  /no leader for this topic-partition/i, // leader election right after creation
];

/** kafkajs notices that are about a choice this project made deliberately, not a problem. */
const DELIBERATE_NOTICES = [
  // The default (murmur2) partitioner is the one we want; ingest picks partitions itself anyway.
  /switched default partitioner/,
  // ingest bounds the idempotent producer's retries on purpose: past ingest.ackTimeout the client
  // gets a 503 and resends. Exactly-once is not promised; every delivery carries the message id.
  /Limiting retries for the idempotent producer/,
];

/** Normal while a consumer group settles: a member joined or left. */
const ROUTINE_WARNINGS = [/The group is rebalancing, re-joining/];

const CONNECTION_FAILURE = /ECONNREFUSED|Connection timeout|Failed to connect|Connection error/i;

/**
 * The pino level for one kafkajs log entry: known transients, deliberate notices and kafkajs's
 * own INFO narration go to debug, so that a healthy process logs no ERROR or WARN and its info
 * lines are ours; what stays a warning carries a `hint` saying what to do.
 */
export function kafkaLogLevel(entry: Pick<LogEntry, 'level' | 'log'>): PinoLevel {
  const { message } = entry.log;
  const error = typeof entry.log.error === 'string' ? entry.log.error : '';
  if (DELIBERATE_NOTICES.some((pattern) => pattern.test(message))) return 'debug';
  if (message.startsWith('Response ') && TRANSIENT_RESPONSE_ERRORS.some((p) => p.test(error))) {
    return 'debug';
  }
  if (ROUTINE_WARNINGS.some((pattern) => pattern.test(message))) return 'info';
  switch (entry.level) {
    case KafkaLogLevel.ERROR:
      return 'error';
    case KafkaLogLevel.WARN:
      return 'warn';
    // kafkajs narrates every client's life at INFO (starting, joined, stopped), the throwaway
    // control followers' too; our own lines say what matters, so its narration is debug.
    default:
      return 'debug';
  }
}

/** What a reader of a remaining warning or error can do about it, when we know. */
export function kafkaLogHint(
  entry: Pick<LogEntry, 'log'>,
  brokers: readonly string[],
): string | undefined {
  const text = `${entry.log.message} ${typeof entry.log.error === 'string' ? entry.log.error : ''}`;
  if (CONNECTION_FAILURE.test(text)) {
    return `Kafka is not reachable at ${brokers.join(',')}: start it (pnpm kafka:start) or set KAFKA_BROKERS; the client keeps retrying`;
  }
  return undefined;
}

/** A kafkajs logCreator that writes through pino at the levels `kafkaLogLevel` chooses. */
export function kafkaLogCreator(
  logger: Logger,
  brokers: readonly string[],
): () => (entry: LogEntry) => void {
  return () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    const level = kafkaLogLevel(entry);
    const hint = level === 'warn' || level === 'error' ? kafkaLogHint(entry, brokers) : undefined;
    const fields = { namespace: entry.namespace, ...rest, ...(hint ? { hint } : {}) };
    logger[level](fields, message);
  };
}
