import { ENVELOPE_HEADERS, type Logger } from '@kafka-throttle/common';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';

export interface OldestWaitingOptions {
  kafka: Kafka;
  topic: string;
  /** A throwaway group of its own: it never commits and never joins the drain group. */
  groupId: string;
  logger: Logger;
}

/**
 * Reads, for each partition, the record at a given offset (the group's committed offset: the
 * oldest one still waiting) and tells when it was received. kafkajs cannot fetch without a
 * group, so this is a consumer alone in a throwaway group that stays paused, and is moved to
 * the asked offsets and resumed only while a question is being answered.
 */
export interface OldestWaiting {
  /** Per partition, when the record at `offset` was received (epoch ms); absent if unknown. */
  receivedAt(offsets: ReadonlyMap<number, number>, timeoutMs: number): Promise<Map<number, number>>;
  stop(): Promise<void>;
}

interface Question {
  offsets: ReadonlyMap<number, number>;
  answers: Map<number, number>;
  done: () => void;
}

export function createOldestWaiting(options: OldestWaitingOptions): OldestWaiting {
  const { kafka, topic } = options;
  let consumer: Consumer | undefined;
  let started: Promise<Consumer> | undefined;
  let question: Question | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  async function start(): Promise<Consumer> {
    const created = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 64 * 1024,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    consumer = created;
    await created.connect();
    await created.subscribe({ topic, fromBeginning: false });
    await created.run({ autoCommit: false, eachBatch });
    created.pause([{ topic }]);
    return created;
  }

  async function eachBatch({ batch, pause }: EachBatchPayload): Promise<void> {
    const wanted = question?.offsets.get(batch.partition);
    if (question && wanted !== undefined && !question.answers.has(batch.partition)) {
      const record = batch.messages.find((m) => Number(m.offset) >= wanted);
      if (record) {
        const header = record.headers?.[ENVELOPE_HEADERS.receivedAt]?.toString();
        const receivedAt = Number(header ?? record.timestamp);
        question.answers.set(
          batch.partition,
          Number.isFinite(receivedAt) ? receivedAt : Number(record.timestamp),
        );
        if (question.answers.size === question.offsets.size) question.done();
      }
    }
    pause();
  }

  async function ask(
    offsets: ReadonlyMap<number, number>,
    timeoutMs: number,
  ): Promise<Map<number, number>> {
    const answers = new Map<number, number>();
    if (offsets.size === 0) return answers;
    started ??= start().catch((error: unknown) => {
      started = undefined;
      void consumer?.disconnect().catch(() => undefined);
      throw error;
    });
    const running = await started;
    const partitions = [...offsets.keys()];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      question = {
        offsets,
        answers,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      for (const [partition, offset] of offsets) {
        running.seek({ topic, partition, offset: String(offset) });
      }
      running.resume([{ topic, partitions }]);
    });
    question = undefined;
    running.pause([{ topic, partitions }]);
    return answers;
  }

  return {
    receivedAt(offsets, timeoutMs) {
      const result = queue.then(() => ask(offsets, timeoutMs));
      queue = result.catch(() => undefined);
      return result;
    },
    async stop() {
      await consumer?.disconnect();
    },
  };
}
