import {
  type Clock,
  ensureTopics,
  type Logger,
  retryWithBackoff,
  type TopicSpec,
} from '@kafka-throttle/common';
import type { Admin, Kafka } from 'kafkajs';

export type ReadinessStatus = { ready: true } | { ready: false; reason: string };

export interface ReadinessOptions {
  kafka: Kafka;
  /** Created when missing; the first is the topic records go to. */
  topics: readonly TopicSpec[];
  producer: { connect(): Promise<void>; readonly connected: boolean };
  clock: Clock;
  logger: Logger;
  /** Pause between checks while everything is fine. */
  checkInterval?: number;
  /** Pause between attempts while something is wrong. */
  retryInterval?: number;
  /** A check that takes longer than this marks Kafka unreachable while it goes on. */
  checkTimeout?: number;
  /** Runs in every check once the topics are there (ingest reads Kafka's size limit here). */
  onTopicsReady?: (admin: Admin) => Promise<void>;
}

export interface Readiness {
  /** Starts checking in the background; never rejects, never gives up. */
  start(): void;
  stop(): Promise<void>;
  /** True once the topics have been verified: records can be produced from then on. */
  readonly topicsReady: boolean;
  status(): ReadinessStatus;
}

/**
 * Whether ingest can take records: Kafka reachable, the topics there (created if missing, also
 * at start-up when Kafka is not up yet: it keeps trying), and a producer connected. The check
 * repeats, so /readyz turns 503 while Kafka is away and back to 200, with a fresh producer
 * connected, once it returns; nothing here ever exits the process.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const { kafka, topics, producer, clock } = options;
  const checkInterval = options.checkInterval ?? 2000;
  const retryInterval = options.retryInterval ?? 500;
  const checkTimeout = options.checkTimeout ?? 5000;
  const log = options.logger.child({ component: 'readiness' });
  const stopping = new AbortController();
  let admin: Admin | undefined;
  let topicsReady = false;
  let problem: string | undefined = 'Kafka has not been checked yet';
  let running: Promise<void> | undefined;

  function report(next: string | undefined): void {
    if (next === problem) return;
    if (next === undefined) log.info({ topics: topics.map((t) => t.topic) }, 'Kafka is ready');
    else log.warn({ reason: next }, 'Kafka is not ready');
    problem = next;
  }

  async function check(): Promise<void> {
    admin ??= kafka.admin();
    await admin.connect();
    const created = await ensureTopics(admin, topics, clock);
    if (created.length > 0) log.info({ created }, 'created topics');
    await options.onTopicsReady?.(admin);
    topicsReady = true;
    await producer.connect();
  }

  /** One check, reported; rejects when Kafka is not usable, so the retry loop tries again. */
  async function checkAndReport(): Promise<void> {
    const slow = new AbortController();
    void clock.sleep(checkTimeout, slow.signal).then(() => {
      if (!slow.signal.aborted) report(`Kafka did not answer within ${checkTimeout} ms`);
    });
    try {
      await check();
      report(undefined);
    } catch (error) {
      report(`Kafka is unreachable or the topic is unusable: ${messageOf(error)}`);
      throw error;
    } finally {
      slow.abort();
    }
  }

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      // While Kafka is away, checks back off from retryInterval up to the normal checkInterval,
      // so a returning broker is noticed no later than a healthy one would be re-checked.
      await retryWithBackoff(checkAndReport, {
        clock,
        initialMs: retryInterval,
        maxMs: Math.max(retryInterval, checkInterval),
        jitter: 'none',
        signal: stopping.signal,
      }).catch(() => {
        // Only stopping ends the retries; the problem is already reported.
      });
      await clock.sleep(checkInterval, stopping.signal);
    }
  }

  return {
    start() {
      running ??= loop();
    },
    async stop() {
      stopping.abort();
      // A check against a hung broker can take a while; stopping does not wait for it long.
      const pause = new AbortController();
      await Promise.race([running, clock.sleep(1000, pause.signal)]);
      pause.abort();
      await admin?.disconnect().catch(() => {});
    },
    get topicsReady() {
      return topicsReady;
    },
    status() {
      if (problem !== undefined) return { ready: false, reason: problem };
      if (!producer.connected) return { ready: false, reason: 'the producer is not connected' };
      return { ready: true };
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
