export type { ConsumerTuning } from './consumer/consumer-tuning.ts';
export {
  type DeadLetterCause,
  type DeadLetterRecord,
  DLQ_HEADERS,
} from './delivery/dead-letter.ts';
export { DrainError, type DrainErrorCode } from './errors.ts';
export { monotonicClock } from './monotonic-clock.ts';
export { createHttpSink, type HttpSinkOptions } from './sinks/http-sink.ts';
export { createLogSink, type LogSinkOptions } from './sinks/log-sink.ts';
export { parseRetryAfter } from './sinks/retry-after.ts';
export type { Delivery, PreparedAttempt, Sink, SinkOutcome } from './sinks/sink.ts';
export { sinkFromConfig } from './sinks/sink-from-config.ts';
export type { DrainTuning } from './tuning.ts';
export { createDrainWorker, type DrainWorker, type DrainWorkerOptions } from './worker.ts';
