export {
  createDeadLetter,
  type DeadLetter,
  type DeadLetterCause,
  type DeadLetterRecord,
  DLQ_HEADERS,
} from './dead-letter.ts';
export { type ConsumerTuning, defaultConsumerTuning } from './kafka-source.ts';
export { monotonicClock } from './monotonic-clock.ts';
export { createRetryPolicy, type RetryDecision, type RetryPolicy } from './retry-policy.ts';
export { createHttpSink, type HttpSinkOptions } from './sinks/http-sink.ts';
export { createLogSink, type LogSinkOptions } from './sinks/log-sink.ts';
export { parseRetryAfter } from './sinks/retry-after.ts';
export type { Delivery, Sink, SinkOutcome } from './sinks/sink.ts';
export { sinkFromConfig } from './sinks/sink-from-config.ts';
export {
  createDrainWorker,
  type DrainTuning,
  type DrainWorker,
  type DrainWorkerOptions,
} from './worker.ts';
