import type { Clock, Logger } from '@kafka-throttle/common';
import type { Kafka, Message, Producer, RecordMetadata, RetryOptions } from 'kafkajs';
import { IngestError, kafkaUnavailable } from '../errors.ts';
import type { IngestMetrics } from '../metrics.ts';
import { type BatchPartitioner, createBatchPartitioner } from './partitioner.ts';
import type { Placement, ProducePort } from './produce-port.ts';

export interface KafkaProducerOptions {
  kafka: Kafka;
  topic: string;
  /** Bounds kafkajs' own retries and the broker-side wait for replica acks. */
  ackTimeout: number;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<IngestMetrics, 'producerCreated'>;
  /**
   * After a failed connect, how long sends fail at once instead of trying again. Keeps a down
   * broker from being hammered by one connect per batch, and clients get their 503 at once.
   */
  reconnectBackoff?: number;
}

export interface KafkaProducer extends ProducePort {
  /** Connects a producer unless one is connected or connecting; rejects if Kafka is unreachable. */
  connect(): Promise<void>;
  /** True while a connected producer is in use (false after a failed send, until reconnected). */
  readonly connected: boolean;
  /** Waits for abandoned sends to settle and disconnects every producer. */
  disconnect(): Promise<void>;
}

interface Generation {
  producer: Producer;
  partitioner: BatchPartitioner;
  ready: Promise<void>;
  connected: boolean;
  number: number;
}

/**
 * The ProducePort over kafkajs: an idempotent producer (acks from all in-sync replicas, one
 * request in flight) that replaces itself whenever a send fails or is given up on.
 *
 * Why replace it: when a produce request fails, kafkajs rolls its sequence numbers back. If the
 * request had in fact been written (only the answer was lost), the next batch would reuse those
 * numbers, and when it happens to have the same record count per partition the broker answers
 * "duplicate, already written" with the old offsets: we would answer 202 for records that are
 * not in Kafka. A new producer gets a new producer id and a fresh sequence, so that cannot
 * happen. The records of the failed request may or may not be in Kafka; their clients got 503
 * (at-least-once).
 *
 * The caller (the batcher) sends one batch at a time, so a producer never has two sends in
 * flight; a send abandoned on timeout keeps its producer until it settles, then disconnects it.
 */
export function createKafkaProducer(options: KafkaProducerOptions): KafkaProducer {
  const { kafka, topic, ackTimeout, metrics, clock } = options;
  const reconnectBackoff = options.reconnectBackoff ?? 1000;
  const log = options.logger.child({ component: 'producer', topic });
  const retry = producerRetry(ackTimeout);
  let current: Generation | undefined;
  let created = 0;
  let lastConnectFailure: { at: number; reason: string } | undefined;
  const retiring = new Set<Promise<void>>();

  function generation(): Generation {
    if (current) return current;
    if (lastConnectFailure && clock.now() - lastConnectFailure.at < reconnectBackoff) {
      throw kafkaUnavailable(`cannot connect to Kafka: ${lastConnectFailure.reason}`);
    }
    const partitioner = createBatchPartitioner();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: partitioner.create,
      retry,
    });
    created++;
    metrics?.producerCreated.inc();
    const gen: Generation = {
      producer,
      partitioner,
      connected: false,
      number: created,
      ready: Promise.resolve(),
    };
    gen.ready = producer.connect().then(
      () => {
        gen.connected = true;
        lastConnectFailure = undefined;
        log.info({ producer: gen.number }, 'producer connected');
      },
      (error: unknown) => {
        log.warn({ producer: gen.number, err: error }, 'producer could not connect');
        lastConnectFailure = { at: clock.now(), reason: messageOf(error) };
        retire(gen, Promise.resolve());
        throw kafkaUnavailable(`cannot connect to Kafka: ${messageOf(error)}`, error);
      },
    );
    // A connect nobody waits for (a background reconnect) must not become an unhandled rejection.
    gen.ready.catch(() => {});
    current = gen;
    return gen;
  }

  function retire(gen: Generation, settled: Promise<unknown>): void {
    if (current === gen) current = undefined;
    gen.connected = false;
    const done = settled
      .then(
        () => {},
        () => {},
      )
      .then(() => gen.producer.disconnect())
      .catch((error: unknown) =>
        log.warn({ producer: gen.number, err: error }, 'retired producer did not disconnect'),
      );
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  }

  async function send(messages: Message[], signal: AbortSignal): Promise<Placement[]> {
    const gen = generation();
    // Giving up while connecting leaves the connect running for the next batch.
    await untilAborted(gen.ready, signal);
    gen.partitioner.nextBatch();
    const sending = gen.producer.send({ topic, acks: -1, timeout: ackTimeout, messages });
    try {
      const metadata = await untilAborted(sending, signal);
      return placements(messages, metadata, topic);
    } catch (error) {
      if (isTooLarge(error)) {
        // Kafka refused the request without writing it: the producer's sequence is intact.
        throw new IngestError(
          'body_too_large',
          `Kafka refused the record as too large for ${topic}`,
        );
      }
      log.warn(
        { producer: gen.number, records: messages.length, err: error, gaveUp: signal.aborted },
        'produce request failed; replacing the producer',
      );
      retire(gen, sending);
      if (error instanceof IngestError) throw error;
      throw kafkaUnavailable(`Kafka did not take the records: ${messageOf(error)}`, error);
    }
  }

  return {
    send,
    async connect() {
      await generation().ready;
    },
    get connected() {
      return current?.connected === true;
    },
    async disconnect() {
      if (current) retire(current, current.ready);
      await Promise.all([...retiring]);
    },
  };
}

/**
 * kafkajs retries an idempotent producer's requests forever by default; a send abandoned on
 * timeout would then keep its producer alive as long as Kafka is away. Bounded retries (with a
 * short backoff, so a returning broker is noticed quickly) let it settle. kafkajs warns that
 * limiting retries may break exactly-once; replacing the producer after every failure (above) is
 * what keeps the guarantee we need.
 */
function producerRetry(ackTimeout: number): RetryOptions {
  return {
    initialRetryTime: 100,
    maxRetryTime: 1000,
    retries: 4 + Math.ceil(ackTimeout / 1000),
  };
}

/**
 * Each record's partition and offset: kafkajs reports the base offset of each partition's
 * batch, and within a partition the records keep the order in which they were given.
 */
export function placements(
  messages: readonly Message[],
  metadata: readonly RecordMetadata[],
  topic: string,
): Placement[] {
  const next = new Map<number, bigint>();
  for (const entry of metadata) {
    if (entry.topicName !== topic || entry.baseOffset === undefined) continue;
    if (entry.errorCode !== 0) {
      throw kafkaUnavailable(`Kafka refused partition ${entry.partition} (${entry.errorCode})`);
    }
    next.set(entry.partition, BigInt(entry.baseOffset));
  }
  return messages.map((message) => {
    const partition = message.partition;
    const offset = partition === undefined ? undefined : next.get(partition);
    if (partition === undefined || offset === undefined) {
      throw kafkaUnavailable(`Kafka's answer has no offset for partition ${partition}`);
    }
    next.set(partition, offset + 1n);
    return { partition, offset: offset.toString() };
  });
}

/** Settles like `promise`, or rejects with `kafka_unavailable` as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(gaveUp());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(gaveUp());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function gaveUp(): IngestError {
  return kafkaUnavailable('Kafka did not acknowledge in time');
}

/** Kafka's MESSAGE_TOO_LARGE, however kafkajs wrapped it. */
function isTooLarge(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (e.type === 'MESSAGE_TOO_LARGE') return true;
  if (Array.isArray(e.errors) && e.errors.some(isTooLarge)) return true;
  return isTooLarge(e.cause) || isTooLarge(e.originalError);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
