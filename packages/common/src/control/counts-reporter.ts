import type { Kafka, Message, Producer } from 'kafkajs';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { controlTopicName } from './control-state.ts';
import { BREAKER_REFRESH_MS, countsKey, type WorkerReport } from './delivery-counts.ts';

export interface CountsReporterOptions {
  kafka: Kafka;
  /** The request topic; the control topic is named after it. */
  topic: string;
  /** The worker's counts, with its destination breaker while that is open. */
  read(): WorkerReport;
  /** Names the worker in its key: unique per process, so a restart counts from zero apart. */
  worker: string;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /**
   * After each write: when it was sent and acknowledged (this clock) and when the broker
   * appended it (its clock; undefined unless the topic stamps LogAppendTime).
   */
  onWritten?(sentAt: number, ackedAt: number, brokerAt: number | undefined): void;
}

/** Longest a stop waits to write the last counts. */
const FINAL_WRITE_MS = 2000;

export interface CountsReporter {
  start(): void;
  /** Writes the last counts and the key's tombstone, so the topic forgets this worker. */
  stop(): Promise<void>;
}

/**
 * Writes a worker's cumulative counts to the control topic every `intervalMs` while they
 * change (an idle worker writes nothing), and at least every `BREAKER_REFRESH_MS` while its
 * breaker is open, so readers can tell an open breaker from a crashed worker's last word. A
 * failed write is not retried: the next one carries the newer counts anyway.
 */
export function createCountsReporter(options: CountsReporterOptions): CountsReporter {
  const { clock } = options;
  const topic = controlTopicName(options.topic);
  const key = countsKey(options.worker);
  const logger = options.logger.child({ component: 'counts', controlTopic: topic });
  const producer: Producer = options.kafka.producer({ allowAutoTopicCreation: false });
  const stopping = new AbortController();
  let connected: Promise<void> | undefined;
  let written = '';
  let failing = false;
  let loop: Promise<void> | undefined;

  async function send(messages: Message[]): Promise<void> {
    connected ??= producer.connect().catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    await connected;
    // Timed from here, not before connecting: the round trip is the estimate's error bar.
    const sentAt = clock.now();
    const [written] = await producer.send({ topic, acks: -1, messages });
    // -1 when the topic keeps the producer's CreateTime.
    const appendedAt = Number(written?.logAppendTime ?? -1);
    options.onWritten?.(sentAt, clock.now(), appendedAt > 0 ? appendedAt : undefined);
  }

  /** The report as a record, unless it is what was written last. */
  function latest(): Message | undefined {
    const report = options.read();
    const now = clock.now();
    const { breaker } = report;
    const text = [
      report.delivered,
      report.retried,
      report.deadLettered,
      ...(breaker ? [breaker.reason, breaker.since, Math.floor(now / BREAKER_REFRESH_MS)] : []),
    ].join('/');
    if (text === written) return undefined;
    written = text;
    return { key, value: JSON.stringify({ ...report, at: now }) };
  }

  async function report(): Promise<void> {
    const message = latest();
    if (!message) return;
    try {
      await send([message]);
      if (failing) logger.info('delivery counts written again');
      failing = false;
    } catch (error) {
      written = '';
      if (!failing) logger.warn({ err: error }, 'could not write the delivery counts; will retry');
      failing = true;
    }
  }

  return {
    start() {
      loop ??= (async () => {
        while (!stopping.signal.aborted) {
          await clock.sleep(options.intervalMs, stopping.signal);
          if (!stopping.signal.aborted) await report();
        }
      })();
    },
    async stop() {
      stopping.abort();
      if (!loop) return;
      const running = loop;
      const final = (async () => {
        await running;
        const last = latest();
        await send([...(last ? [last] : []), { key, value: null }]);
      })().then(
        () => true,
        () => false,
      );
      // Bounded, a write under way included: an unreachable Kafka must not hold up a worker's
      // graceful stop.
      const gaveUp = new AbortController();
      const done = await Promise.race([
        final,
        clock.sleep(FINAL_WRITE_MS, gaveUp.signal).then(() => false),
      ]);
      gaveUp.abort();
      if (!done) logger.warn('could not write the last delivery counts');
      await producer.disconnect().catch(() => undefined);
    },
  };
}
