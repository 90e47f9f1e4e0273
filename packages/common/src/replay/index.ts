export type { DeadLetterInfo } from './dead-letter-selection.ts';
export { parseReplayTime, REPLAY_TIME_EXPECTED, type ReplayFilters } from './replay-filters.ts';
export {
  MissingTopicError,
  type ReplayedRecord,
  type ReplayRunOptions,
  type ReplaySummary,
  runReplay,
} from './replay-run.ts';
