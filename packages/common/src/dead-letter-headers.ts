/**
 * The headers drain writes next to a record it dead-letters, saying why. Drain writes them;
 * replay reads them back, so both take them from here.
 */
export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  status: 'x-dlq-status',
  error: 'x-dlq-error',
  attempts: 'x-dlq-attempts',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
} as const;

/** The reasons drain writes in `x-dlq-reason`. */
export const DEAD_LETTER_REASONS = ['status', 'error', 'attempts-exhausted'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];
