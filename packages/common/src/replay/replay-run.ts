import { type Kafka, type KafkaMessage, type Message, Partitioners } from 'kafkajs';
import { ThrottleError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { type DeadLetterInfo, progressGroup, select } from './dead-letter-selection.ts';
import type { ReplayFilters } from './replay-filters.ts';

export interface ReplayRunOptions {
  kafka: Kafka;
  topic: string;
  dlqTopic: string;
  filters: ReplayFilters;
  dryRun: boolean;
  logger: Logger;
  /** Called for each record moved (or that would move, in a dry run). */
  onRecord?(record: ReplayedRecord): void;
  /** Stops after the batch under way (Ctrl-C); progress so far is kept. */
  signal?: AbortSignal;
}

export interface ReplaySummary {
  moved: number;
  filtered: number;
  malformed: number;
  group: string;
}

/** A record a run moved, or would move in a dry run. */
export interface ReplayedRecord {
  info: DeadLetterInfo;
  partition: number;
  offset: string;
}

/** The request or dead-letter topic given to a run does not exist; nothing was moved. */
export class MissingTopicError extends ThrottleError<'topic_missing'> {
  /** Which of the run's topics is missing. */
  readonly which: 'topic' | 'dlqTopic';

  constructor(which: 'topic' | 'dlqTopic', topic: string) {
    super('topic_missing', `topic "${topic}" does not exist`);
    this.name = 'MissingTopicError';
    this.which = which;
  }
}

/**
 * Moves the dead letters that match `filters` back into the request topic, from where the
 * filter's progress group stopped up to the end of the dead-letter topic as it was at the start.
 * Each batch is produced (idempotent, acks from all in-sync replicas) before its offsets are
 * committed, so an interrupted run loses nothing and repeats at most the batch under way, with
 * the same ids.
 */
export async function runReplay(options: ReplayRunOptions): Promise<ReplaySummary> {
  const { kafka, dlqTopic, logger } = options;
  const group = progressGroup(dlqTopic, options.filters);
  const summary: ReplaySummary = { moved: 0, filtered: 0, malformed: 0, group };
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  let starts: Map<number, number>;
  try {
    const existing = new Set(await admin.listTopics());
    if (!existing.has(options.topic)) {
      throw new MissingTopicError('topic', options.topic);
    }
    if (!existing.has(dlqTopic)) {
      throw new MissingTopicError('dlqTopic', dlqTopic);
    }
    const offsets = await admin.fetchTopicOffsets(dlqTopic);
    ends = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
    const lows = new Map(offsets.map((p) => [p.partition, Number(p.low)]));
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [dlqTopic] });
    starts = new Map(
      offsets.map((p) => {
        const at = Number(
          committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1,
        );
        return [p.partition, Math.max(at, lows.get(p.partition) ?? 0)];
      }),
    );
  } finally {
    await admin.disconnect();
  }
  const pending = new Set(
    [...ends].filter(([p, end]) => (starts.get(p) ?? 0) < end).map(([p]) => p),
  );
  if (pending.size === 0 || options.signal?.aborted) return summary;

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const consumer = kafka.consumer({ groupId: group, allowAutoTopicCreation: false });
  await Promise.all([producer.connect(), consumer.connect()]);
  try {
    await consumer.subscribe({ topic: dlqTopic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const finishIfDone = (): void => {
        if (pending.size === 0 || options.signal?.aborted) resolve();
      };
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition) ?? 0;
            const within = batch.messages.filter((m) => Number(m.offset) < end);
            const moving: Message[] = [];
            for (const message of within) {
              const chosen = choose(message, batch.partition);
              if (chosen) moving.push(chosen);
            }
            if (moving.length > 0 && !options.dryRun) {
              await producer.send({ topic: options.topic, acks: -1, messages: moving });
            }
            const last = within.at(-1);
            if (last) {
              const next = Number(last.offset) + 1;
              if (!options.dryRun) {
                await consumer.commitOffsets([
                  { topic: dlqTopic, partition: batch.partition, offset: String(next) },
                ]);
              }
              if (next >= end) pending.delete(batch.partition);
            }
            if (batch.messages.length > within.length) pending.delete(batch.partition);
            finishIfDone();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
  return summary;

  function choose(message: KafkaMessage, partition: number): Message | undefined {
    const selection = select(message, options.filters);
    if (selection.kind === 'malformed') {
      summary.malformed++;
      logger.warn(
        { topic: dlqTopic, partition, offset: message.offset, why: selection.why },
        'skipped a dead-letter record without the expected headers',
      );
      return undefined;
    }
    if (selection.kind === 'filtered') {
      summary.filtered++;
      return undefined;
    }
    summary.moved++;
    options.onRecord?.({ info: selection.info, partition, offset: message.offset });
    return selection.message;
  }
}
