export {
  type BackoffOptions,
  backoffDelay,
  type RetryOptions,
  retryWithBackoff,
} from './backoff.ts';
export { type Clock, systemClock } from './clock.ts';
export {
  type ClockOffset,
  type ClockOffsetEstimator,
  createClockOffsetEstimator,
} from './clock-offset.ts';
export {
  type Config,
  defaultConfigDir,
  type LoadConfigOptions,
  type LogLevel,
  loadConfig,
  type SinkType,
} from './config.ts';
export { loadConfigOrExit } from './config-or-exit.ts';
export { type ConfigKey, configSchema, type KeySpec } from './config-schema.ts';
export {
  type ControlFollower,
  type ControlFollowerOptions,
  type ControlListener,
  createControlFollower,
} from './control/control-follower.ts';
export {
  CONTROL_KEYS,
  type ControlState,
  configuredState,
  controlTopicName,
  type DesiredState,
  type HoldState,
  RATE_BOUNDS,
  type RateSetting,
  rateProblem,
} from './control/control-state.ts';
export {
  type ChangeResult,
  type ControlWriter,
  type ControlWriterOptions,
  createControlWriter,
  type DesiredChange,
} from './control/control-writer.ts';
export {
  type CountsReporter,
  type CountsReporterOptions,
  createCountsReporter,
} from './control/counts-reporter.ts';
export type { DeliveryCounts, OpenBreaker, WorkerReport } from './control/delivery-counts.ts';
export { rateSwitchAt, sameRate } from './control/rate-switch.ts';
export {
  DEAD_LETTER_REASONS,
  type DeadLetterReason,
  DLQ_HEADERS,
} from './dead-letter-headers.ts';
export { parseDuration } from './duration.ts';
export { ENVELOPE_HEADERS, type Envelope, fromKafkaMessage, toKafkaMessage } from './envelope.ts';
export { CommonError, type CommonErrorCode, ConfigError, ThrottleError } from './errors.ts';
export { EXIT_CODE, signalExitCode } from './exit-codes.ts';
export {
  answerClientErrors,
  type ClientErrorAnswer,
  capConnections,
  endWithJsonError,
  type HttpLimits,
  hardenedServerOptions,
  TIMEOUT_CHECK_INTERVAL_MS,
} from './http-hardening.ts';
export {
  configuredTopics,
  createKafkaClient,
  ensureTopics,
  type KafkaClientOptions,
  type TopicSpec,
} from './kafka.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { defaultRateGuard, rateGuard } from './rate-guard.ts';
export {
  type DeadLetterInfo,
  MissingTopicError,
  parseReplayTime,
  REPLAY_TIME_EXPECTED,
  type ReplayedRecord,
  type ReplayFilters,
  type ReplayRunOptions,
  type ReplaySummary,
  runReplay,
} from './replay/index.ts';
export {
  crashProcess,
  runServiceProcess,
  type ServiceProcessOptions,
  STOP_SIGNALS,
  startSupervised,
} from './service-process.ts';
export { signingKey, urlCredentials } from './sink-auth.ts';
