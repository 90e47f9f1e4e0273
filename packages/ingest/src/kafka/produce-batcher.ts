import type { Clock, Logger } from '@kafka-throttle/common';
import type { Message } from 'kafkajs';
import { IngestError, IngestFailure, kafkaUnavailable, produceFailure } from '../errors.ts';
import type { IngestMetrics } from '../metrics.ts';
import type { Placement, ProducePort } from './produce-port.ts';

export interface ProduceBatcherOptions {
  port: ProducePort;
  clock: Clock;
  logger: Logger;
  /** How long a batch waits for more records once the first arrived (0: send at once). */
  linger: number;
  maxMessages: number;
  /** Most bytes per produce request; read for each batch, as Kafka's limit is learnt later. */
  maxBytes: () => number;
  /** Longest a caller waits for its ack; it then gets `kafka_unavailable`. */
  ackTimeout: number;
  metrics?: Pick<IngestMetrics, 'ackLatency' | 'batchSize' | 'batchBytes' | 'produceFailures'>;
}

export interface ProduceBatcher {
  /**
   * Resolves with the record's placement once Kafka acknowledged it, or rejects with
   * `kafka_unavailable` within `ackTimeout`. Never resolves for a record Kafka did not ack.
   */
  submit(message: Message, bytes: number): Promise<Placement>;
  /**
   * Stops lingering for good: what is queued is sent now, later records at once. Resolves once
   * nothing is queued or in flight. Records are still accepted (requests finishing their upload
   * during a graceful stop).
   */
  flush(): Promise<void>;
  /** Like flush, and refuses records from now on. */
  close(): Promise<void>;
}

interface Entry {
  message: Message | undefined;
  bytes: number;
  submittedAt: number;
  deadline: number;
  state: 'queued' | 'sent' | 'settled';
  batch: Batch | undefined;
  resolve: (placement: Placement) => void;
  reject: (error: IngestError) => void;
}

interface Batch {
  /** Aborted once every caller in the batch has had its answer: nobody waits for it anymore. */
  giveUp: AbortController;
  unsettled: number;
  done: boolean;
}

const GAVE_UP = new IngestFailure('batch_abandoned', 'every record of the batch timed out');

/**
 * Coalesces records that arrive together into one produce request. kafkajs' idempotent
 * producer keeps one request in flight per broker, so one request per HTTP call cannot scale;
 * one batch in flight while the next fills up can.
 *
 * Exactly one batch is in flight at a time. Besides throughput this keeps the producer safe:
 * the port never sees two sends at once, so a retried batch cannot have its sequence numbers
 * reused by another (see producer.ts). A batch is sent when the linger ends, when it reaches
 * `maxMessages` or `maxBytes`, or as soon as the batch in flight is answered. Each record has its
 * own deadline; one timer (not one per record) answers the records whose deadline passed.
 */
export function createProduceBatcher(options: ProduceBatcherOptions): ProduceBatcher {
  const { port, clock, metrics, linger, maxMessages, maxBytes, ackTimeout } = options;
  const log = options.logger.child({ component: 'produce-batcher' });
  const queue: Entry[] = [];
  let queuedBytes = 0;
  let inFlight = 0; // 0 or 1
  let lingerToken = 0;
  let lingering = false;
  let flushing = false;
  let closed = false;
  const idleWaiters: (() => void)[] = [];
  // Every unanswered record in deadline order (submission order); answered ones are skipped.
  const byDeadline: Entry[] = [];
  let deadlineHead = 0;
  let sweepArmed = false;
  // Ends the timers still pending when the batcher is closed.
  const lifetime = new AbortController();
  // While Kafka is away every batch fails: warn once, then count until acks resume.
  let failedSinceLastAck = 0;

  function submit(message: Message, bytes: number): Promise<Placement> {
    if (closed) return Promise.reject(new IngestError('shutting_down', 'ingest is stopping'));
    return new Promise<Placement>((resolve, reject) => {
      const now = clock.now();
      const entry: Entry = {
        message,
        bytes,
        submittedAt: now,
        deadline: now + ackTimeout,
        state: 'queued',
        batch: undefined,
        resolve,
        reject,
      };
      queue.push(entry);
      queuedBytes += bytes;
      byDeadline.push(entry);
      if (!sweepArmed) armSweep();
      schedule();
    });
  }

  function schedule(): void {
    if (inFlight > 0 || queue.length === 0) return;
    if (flushing || linger === 0 || queue.length >= maxMessages || queuedBytes >= maxBytes()) {
      dispatch();
      return;
    }
    if (lingering) return;
    lingering = true;
    const token = lingerToken;
    void clock.sleep(linger, lifetime.signal).then(() => {
      if (token !== lingerToken) return;
      lingering = false;
      if (inFlight === 0) dispatch();
    });
  }

  function dispatch(): void {
    lingerToken++;
    lingering = false;
    // A record whose caller has been answered 503 already is not sent at all.
    const now = clock.now();
    while (queue.length > 0 && (queue[0] as Entry).deadline <= now) expire(queue[0] as Entry);
    const entries = take();
    if (entries.length === 0) return;
    const batch: Batch = { giveUp: new AbortController(), unsettled: entries.length, done: false };
    const messages: Message[] = [];
    let bytes = 0;
    for (const entry of entries) {
      entry.state = 'sent';
      entry.batch = batch;
      messages.push(entry.message as Message);
      bytes += entry.bytes;
    }
    inFlight++;
    metrics?.batchSize.observe(entries.length);
    metrics?.batchBytes.observe(bytes);

    port.send(messages, batch.giveUp.signal).then(
      (placements) => {
        batch.done = true;
        const now = clock.now();
        entries.forEach((entry, index) => {
          const placement = placements[index];
          if (placement === undefined) {
            settle(entry, undefined, kafkaUnavailable('Kafka returned no placement'));
            return;
          }
          if (entry.state !== 'settled')
            metrics?.ackLatency.observe((now - entry.submittedAt) / 1000);
          settle(entry, placement);
        });
        if (failedSinceLastAck > 0) {
          log.info({ failedBatches: failedSinceLastAck }, 'Kafka acknowledges records again');
          failedSinceLastAck = 0;
        }
        finished();
      },
      (error: unknown) => {
        batch.done = true;
        const timedOut = batch.giveUp.signal.aborted;
        metrics?.produceFailures.inc({ reason: timedOut ? 'timeout' : 'error' });
        const fields = { records: entries.length, err: error, timedOut };
        if (failedSinceLastAck++ === 0) {
          log.warn(fields, 'produce request failed; its records are answered 503');
        } else {
          log.debug(fields, 'produce request failed; its records are answered 503');
        }
        const failure = produceFailure(error, entries.length);
        for (const entry of entries) settle(entry, undefined, failure);
        finished();
      },
    );
  }

  function finished(): void {
    inFlight--;
    advanceDeadlineHead();
    // Records that queued up meanwhile have waited long enough: send them at once.
    if (queue.length > 0) dispatch();
    notifyIfIdle();
  }

  /** The oldest queued records, up to the batch limits, always at least one. */
  function take(): Entry[] {
    let count = 0;
    let bytes = 0;
    const limit = maxBytes();
    while (count < queue.length && count < maxMessages) {
      const next = (queue[count] as Entry).bytes;
      if (count > 0 && bytes + next > limit) break;
      bytes += next;
      count++;
    }
    queuedBytes -= bytes;
    return queue.splice(0, count);
  }

  function armSweep(): void {
    advanceDeadlineHead();
    const head = byDeadline[deadlineHead];
    if (head === undefined || lifetime.signal.aborted) {
      sweepArmed = false;
      return;
    }
    sweepArmed = true;
    void clock.sleep(Math.max(0, head.deadline - clock.now()), lifetime.signal).then(sweep);
  }

  /** Answers every record whose deadline passed, then waits for the next deadline. */
  function sweep(): void {
    const now = clock.now();
    while (deadlineHead < byDeadline.length) {
      const entry = byDeadline[deadlineHead] as Entry;
      if (entry.state !== 'settled') {
        if (entry.deadline > now) break;
        expire(entry);
      }
      deadlineHead++;
    }
    notifyIfIdle();
    armSweep();
  }

  function advanceDeadlineHead(): void {
    while (deadlineHead < byDeadline.length && byDeadline[deadlineHead]?.state === 'settled') {
      deadlineHead++;
    }
    if (deadlineHead > 1024 && deadlineHead * 2 > byDeadline.length) {
      byDeadline.splice(0, deadlineHead);
      deadlineHead = 0;
    }
  }

  function expire(entry: Entry): void {
    if (entry.state === 'settled') return;
    if (entry.state === 'queued') {
      const index = queue.indexOf(entry);
      if (index >= 0) {
        queue.splice(index, 1);
        queuedBytes -= entry.bytes;
      }
    }
    settle(
      entry,
      undefined,
      kafkaUnavailable(`Kafka did not acknowledge the record within ${ackTimeout} ms`),
    );
  }

  function settle(entry: Entry, placement?: Placement, error?: IngestError): void {
    if (entry.state === 'settled') return;
    entry.state = 'settled';
    // The body may be large; the entry itself lives on a little in byDeadline.
    entry.message = undefined;
    const batch = entry.batch;
    if (batch && --batch.unsettled === 0 && !batch.done) {
      // Every caller of this batch has its answer: stop waiting, so the port can move on.
      batch.giveUp.abort(GAVE_UP);
    }
    if (placement) entry.resolve(placement);
    else entry.reject(error ?? kafkaUnavailable('Kafka did not acknowledge the record'));
  }

  function notifyIfIdle(): void {
    if (queue.length > 0 || inFlight > 0) return;
    for (const wake of idleWaiters.splice(0)) wake();
  }

  function flush(): Promise<void> {
    flushing = true;
    schedule();
    if (queue.length === 0 && inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  return {
    submit,
    flush,
    async close() {
      closed = true;
      await flush();
      lifetime.abort(GAVE_UP);
    },
  };
}
