import { parseArgs } from 'node:util';
import {
  type DeadLetterReason,
  DLQ_HEADERS,
  parseReplayTime,
  DEAD_LETTER_REASONS as REASONS,
  REPLAY_TIME_EXPECTED,
  type ReplayFilters,
} from '@kafka-throttle/common';

export interface ReplayArgs {
  filters: ReplayFilters;
  dryRun: boolean;
  /** Overrides of `kafka.topic` and `dlq.topic`. */
  topic?: string;
  dlqTopic?: string;
  help: boolean;
}

/** A bad argument: the message names it; the command exits 2. */
export class ArgumentError extends Error {
  readonly code = 'bad_argument';
}

export const USAGE = `pnpm replay [options]: moves dead letters back into the request topic

  --reason <r>      only records dead-lettered for this reason (${REASONS.join(', ')});
                    repeat or separate with commas for several
  --from <time>     only records dead-lettered at or after this time (ISO 8601 or epoch ms)
  --to <time>       only records dead-lettered before this time
  --id <id>         only the record with this message id; repeat for several
  --dry-run         list what would move, move nothing
  --topic <t>       request topic (default: kafka.topic / KAFKA_TOPIC)
  --dlq-topic <t>   dead-letter topic (default: dlq.topic / DLQ_TOPIC)
  --help            this text

Progress is kept in Kafka per filter: running the same command again moves only what was
dead-lettered since; an interrupted run resumes where it stopped.`;

/** Parses the command line; throws ArgumentError naming the bad argument. */
export function parseReplayArgs(argv: readonly string[]): ReplayArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new ArgumentError((error as Error).message);
  }
  const filters: ReplayFilters = {
    ...(values.reason ? { reasons: parseReasons(values.reason) } : {}),
    ...(values.from !== undefined ? { from: parseTime('--from', values.from) } : {}),
    ...(values.to !== undefined ? { to: parseTime('--to', values.to) } : {}),
    ...(values.id ? { ids: parseIds(values.id) } : {}),
  };
  if (filters.from !== undefined && filters.to !== undefined && filters.from >= filters.to) {
    throw new ArgumentError(`--to: must be after --from, got ${values.to}`);
  }
  return {
    filters,
    dryRun: values['dry-run'] ?? false,
    help: values.help ?? false,
    ...(values.topic !== undefined ? { topic: nonEmpty('--topic', values.topic) } : {}),
    ...(values['dlq-topic'] !== undefined
      ? { dlqTopic: nonEmpty('--dlq-topic', values['dlq-topic']) }
      : {}),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      reason: { type: 'string', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      id: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      topic: { type: 'string' },
      'dlq-topic': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
}

function parseReasons(given: readonly string[]): DeadLetterReason[] {
  const reasons = given.flatMap((r) => r.split(',')).map((r) => r.trim());
  for (const reason of reasons) {
    if (!(REASONS as readonly string[]).includes(reason)) {
      throw new ArgumentError(
        `--reason: unknown reason "${reason}", expected one of ${REASONS.join(', ')} (as in ${DLQ_HEADERS.reason})`,
      );
    }
  }
  return reasons as DeadLetterReason[];
}

function parseTime(argument: string, text: string): number {
  const ms = parseReplayTime(text);
  if (ms === undefined) {
    throw new ArgumentError(
      `${argument}: not a time, got "${text}"; expected ${REPLAY_TIME_EXPECTED}`,
    );
  }
  return ms;
}

function parseIds(given: readonly string[]): string[] {
  return given.map((id) => nonEmpty('--id', id));
}

function nonEmpty(argument: string, value: string): string {
  if (value.trim() === '') throw new ArgumentError(`${argument}: must not be empty`);
  return value.trim();
}
