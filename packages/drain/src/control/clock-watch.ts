import { type ClockOffset, createClockOffsetEstimator, type Logger } from '@kafka-throttle/common';

export interface ClockWatchOptions {
  /** The skew budget at the rate in force (see pacing/skew-budget.ts). */
  budgetMs(): number;
  logger: Logger;
}

export interface ClockWatch {
  /** One write's round trip: sent and acknowledged (this clock), appended (the broker's). */
  sample(sentAt: number, ackedAt: number, brokerAt: number | undefined): void;
  offset(): ClockOffset | undefined;
}

/**
 * Keeps this worker's estimate of its clock's offset from the Kafka cluster's, and says so when
 * the offset (beyond its uncertainty) uses more than half of the skew budget: two workers each
 * that far off, in opposite directions, would use all of it.
 */
export function createClockWatch(options: ClockWatchOptions): ClockWatch {
  const { logger } = options;
  const estimator = createClockOffsetEstimator();
  let unstamped = false;
  let warned = false;

  return {
    sample(sentAt, ackedAt, brokerAt) {
      if (brokerAt === undefined) {
        if (!unstamped) {
          logger.info(
            'the control topic keeps producer timestamps (created by an older version?): clock offset not measured',
          );
        }
        unstamped = true;
        return;
      }
      estimator.sample(sentAt, ackedAt, brokerAt);
      const estimate = estimator.current();
      if (!estimate) return;
      const budgetMs = options.budgetMs();
      const surely = Math.abs(estimate.offsetMs) - estimate.uncertaintyMs;
      const over = surely > budgetMs / 2;
      const about = { ...estimate, budgetMs };
      if (over && !warned) {
        logger.warn(
          about,
          'clock off the Kafka cluster by more than half the skew budget; check NTP',
        );
      } else if (!over && warned) {
        logger.info(about, 'clock back within half the skew budget');
      }
      warned = over;
    },
    offset: () => estimator.current(),
  };
}
