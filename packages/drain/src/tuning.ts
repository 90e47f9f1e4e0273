import type { Config } from '@kafka-throttle/common';
import { type ConsumerTuning, defaultConsumerTuning } from './consumer/consumer-tuning.ts';

/**
 * Values a worker derives from its configuration rather than reading them: they follow from
 * the rate and from Kafka's behaviour, so no user should have to set them. Tests and benchmarks
 * may override any of them.
 */
export interface DrainTuning extends ConsumerTuning {
  /** Records a partition's queue may hold before fetching from it pauses. */
  highWater: number;
  /** Records a paused partition's queue must be down to before fetching resumes. */
  lowWater: number;
  /** Bytes a partition's queue may hold before fetching from it pauses. */
  maxQueueBytes: number;
  /** First wait after a failed write to the dead-letter topic; it doubles up to the next. */
  deadLetterRetryMs: number;
  deadLetterRetryMaxMs: number;
  /**
   * How often the worker writes its delivery counts to the control topic (while they change).
   * The admin server samples once a second, so its retried series moves with the others.
   */
  countsReportMs: number;
}

/**
 * How long a queue must last at the full rate once fetching resumes: a fetch round trip plus
 * kafkajs's sleep while every partition is paused (`maxWaitTimeInMs`), with room to spare. Half
 * a second keeps a resumed partition from running dry without holding much in memory.
 */
const REFILL_COVER_SECONDS = 0.5;
/** A low water mark below this makes a slow partition flap between paused and resumed. */
const MIN_LOW_WATER = 20;
/** Above this, a fast partition would hold more records in memory than it helps to. */
const MAX_LOW_WATER = 5000;
/** Pausing at three times the resume mark: one pause/resume round per two marks' worth. */
const HIGH_TO_LOW_WATER = 3;
/** A queue of large records pauses on bytes before it reaches the high water mark. */
const MAX_QUEUE_BYTES = 8 * 1024 * 1024;

export function resolveTuning(config: Config, given: Partial<DrainTuning> = {}): DrainTuning {
  const perPartitionPerSecond =
    (config.rate.messages * 1000) / config.rate.period / Math.max(1, config.kafka.partitions);
  const lowWater = Math.min(
    MAX_LOW_WATER,
    Math.max(MIN_LOW_WATER, Math.ceil(perPartitionPerSecond * REFILL_COVER_SECONDS)),
  );
  return {
    ...defaultConsumerTuning,
    highWater: lowWater * HIGH_TO_LOW_WATER,
    lowWater,
    maxQueueBytes: MAX_QUEUE_BYTES,
    deadLetterRetryMs: 1000,
    deadLetterRetryMaxMs: 5000,
    countsReportMs: 1000,
    ...given,
  };
}
