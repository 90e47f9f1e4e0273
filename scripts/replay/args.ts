import { parseArgs } from 'node:util';
import { DLQ_HEADERS } from '../../packages/drain/src/index.ts';

/** The reasons drain writes in `x-dlq-reason`. */
export const REASONS = ['status', 'error', 'attempts-exhausted'] as const;
export type Reason = (typeof REASONS)[number];

export interface ReplayFilters {
  reasons?: readonly Reason[];
  /** Dead-lettered at or after (epoch ms). */
  from?: number;
  /** Dead-lettered before (epoch ms). */
  to?: number;
  ids?: readonly string[];
}

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

function parseReasons(given: readonly string[]): Reason[] {
  const reasons = given.flatMap((r) => r.split(',')).map((r) => r.trim());
  for (const reason of reasons) {
    if (!(REASONS as readonly string[]).includes(reason)) {
      throw new ArgumentError(
        `--reason: unknown reason "${reason}", expected one of ${REASONS.join(', ')} (as in ${DLQ_HEADERS.reason})`,
      );
    }
  }
  return reasons as Reason[];
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO 8601 (a date, or a date and time) or epoch milliseconds. */
export function parseTime(argument: string, text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = ISO_DATE.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ArgumentError(
      `${argument}: not a time, got "${text}"; expected ISO 8601 such as 2026-12-01T10:00:00Z, or epoch milliseconds`,
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
