import type { Clock, Logger, RateSetting } from '@kafka-throttle/common';
import type { Admin } from 'kafkajs';

/** One second of the group's work, as Kafka's offsets tell it. */
export interface HistoryPoint {
  /** End of the interval, epoch ms. */
  at: number;
  /** Per second: records committed by the group that did not go to the dead-letter topic. */
  delivered: number;
  /** Per second: records added to the dead-letter topic. */
  deadLettered: number;
  /** Per second: failed attempts to be tried again, as the workers counted them. */
  retried: number;
  /** The configured limit, per second, at the time of the sample. */
  limit: number;
}

export interface DeliveryHistory {
  start(): void;
  stop(): Promise<void>;
  /** The last ten minutes (oldest first) and whether the last sample reached Kafka. */
  snapshot(): { points: HistoryPoint[]; kafka: { reachable: boolean; error: string | null } };
}

export interface DeliveryHistoryOptions {
  admin: Admin;
  topic: string;
  group: string;
  dlqTopic: string;
  clock: Clock;
  logger: Logger;
  rate: () => RateSetting;
  /** The group's retries so far (the workers' counts); undefined until they have been read. */
  retried: () => number | undefined;
  intervalMs?: number;
  /** How many intervals are kept: ten minutes of one-second samples by default. */
  keep?: number;
}

interface Sample {
  at: number;
  /** Sum over partitions of the group's committed offsets (0 where nothing is committed yet). */
  committed: number;
  /** Sum over partitions of the dead-letter topic's end offsets. */
  deadLettered: number;
  retried: number | undefined;
}

/**
 * Samples the drain group's committed offsets and the dead-letter topic's end offsets once a
 * second. A worker commits a record's offset once it is delivered or dead-lettered, so the growth
 * of the committed sum is everything finished, and the growth of the dead-letter topic the part
 * that failed for good. Retries leave no offsets: those come from the counts every worker
 * writes to the control topic (delivery-counts.ts in common).
 */
export function createDeliveryHistory(options: DeliveryHistoryOptions): DeliveryHistory {
  const intervalMs = options.intervalMs ?? 1000;
  const keep = options.keep ?? 600;
  const logger = options.logger.child({ component: 'delivery-history' });
  const points: HistoryPoint[] = [];
  let previous: Sample | undefined;
  let lastError: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let sampling: Promise<void> | undefined;
  let connected: Promise<void> | undefined;

  async function read(): Promise<Sample> {
    connected ??= options.admin.connect().catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    await connected;
    const [committed, dlq] = await Promise.all([
      options.admin.fetchOffsets({ groupId: options.group, topics: [options.topic] }),
      options.admin.fetchTopicOffsets(options.dlqTopic),
    ]);
    return {
      at: options.clock.now(),
      retried: options.retried(),
      committed: (committed[0]?.partitions ?? []).reduce(
        (sum, p) => sum + Math.max(0, Number(p.offset)),
        0,
      ),
      deadLettered: dlq.reduce((sum, p) => sum + Number(p.high), 0),
    };
  }

  async function sample(): Promise<void> {
    try {
      const now = await read();
      if (previous !== undefined && now.at > previous.at) {
        const seconds = (now.at - previous.at) / 1000;
        const dead = Math.max(0, now.deadLettered - previous.deadLettered);
        const finished = Math.max(0, now.committed - previous.committed);
        const retried =
          now.retried === undefined || previous.retried === undefined
            ? 0
            : Math.max(0, now.retried - previous.retried);
        const rate = options.rate();
        points.push({
          at: now.at,
          // A record is dead-lettered before its offset is committed: near a boundary the
          // dead-letter count may run one sample ahead, never below zero.
          delivered: Math.max(0, finished - dead) / seconds,
          deadLettered: dead / seconds,
          retried: retried / seconds,
          limit: (rate.messages * 1000) / rate.periodMs,
        });
        if (points.length > keep) points.splice(0, points.length - keep);
      }
      previous = now;
      if (lastError !== null) logger.info('offsets readable again');
      lastError = null;
    } catch (error) {
      // The gap stays a gap: the next good sample starts a new interval instead of spreading
      // what happened while Kafka was away over one point.
      previous = undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (lastError === null) logger.warn({ err: error }, 'could not read the group offsets');
      lastError = message;
    }
  }

  function schedule(): void {
    timer = setTimeout(() => {
      sampling = sample().finally(() => {
        if (timer !== undefined) schedule();
      });
    }, intervalMs);
  }

  return {
    start() {
      if (timer !== undefined) return;
      sampling = sample();
      schedule();
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await sampling;
      await options.admin.disconnect().catch(() => undefined);
    },
    snapshot() {
      return {
        points: [...points],
        kafka: { reachable: lastError === null && previous !== undefined, error: lastError },
      };
    },
  };
}
