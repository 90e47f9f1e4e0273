import type { Clock } from '@kafka-throttle/common';
import { errorMessage } from '../errors.ts';
import type { PreparedAttempt, Sink, SinkOutcome } from '../sinks/sink.ts';
import type { PrepareAttempt, ReadyPick, Sendable } from './dispatcher.ts';
import type { InFlight } from './in-flight.ts';
import type { AttemptOf, OutcomeHandler } from './outcome.ts';
import type { PartitionQueues } from './partition-queues.ts';

export interface AttemptsOptions {
  topic: string;
  sink: Pick<Sink, 'prepare'>;
  outcomes: OutcomeHandler;
  queues: Pick<PartitionQueues, 'release'>;
  clock: Clock;
  /** Counts attempts from begin to end. */
  inFlight: Pick<InFlight, 'begin' | 'end'>;
  /** Aborted when stopping takes too long: attempts still under way are cut short. */
  signal: AbortSignal;
  /** An attempt was sent (it took a permit). */
  onSent(): void;
  /** An attempt ended one way or another: its partition may be ready again. */
  onEnded(): void;
}

export interface Attempts {
  /** For the dispatcher: readies an attempt of the record it picked. */
  prepare: PrepareAttempt;
}

/**
 * The life of one attempt: readied by the sink (no permit yet) → sent by the dispatcher the
 * moment it has a permit → its outcome handled (delivered, retry later, dead-letter) → ended.
 * Or: readied → cancelled unsent (its permit is too far off, or its partition moved) → ended,
 * as if it had not begun. An attempt that fails while being readied skips straight to its
 * outcome: nothing was sent and no permit taken, but it counts as an attempt of its record.
 */
export function createAttempts(options: AttemptsOptions): Attempts {
  const { sink, clock, outcomes } = options;

  function ended(): void {
    options.inFlight.end();
    options.onEnded();
  }

  const owner: AttemptOwner = {
    sent: options.onSent,
    clock,
    settle(of, outcome, started) {
      const handled = outcomes.handle(of, outcome, started);
      if (handled) void handled.finally(ended);
      else ended();
    },
    cancelled(partition) {
      options.queues.release(partition);
      ended();
    },
  };

  function readied(of: AttemptOf, prepared: PreparedAttempt | SinkOutcome): Sendable | undefined {
    if (prepared.kind === 'prepared') return new ReadyAttempt(of, prepared, owner);
    owner.settle(of, prepared, undefined);
    return undefined;
  }

  function prepare(pick: ReadyPick, attempt: number): ReturnType<PrepareAttempt> {
    const of: AttemptOf = { partition: pick.partition, record: pick.record, attempt };
    options.inFlight.begin();
    let prepared: PreparedAttempt | SinkOutcome | Promise<PreparedAttempt | SinkOutcome>;
    try {
      prepared = sink.prepare(
        {
          envelope: of.record.envelope,
          topic: options.topic,
          partition: of.partition,
          offset: of.record.message.offset,
          attempt,
        },
        options.signal,
      );
    } catch (error) {
      prepared = failedBeforeSending(error);
    }
    if (!(prepared instanceof Promise)) return readied(of, prepared);
    return prepared.then(
      (result) => readied(of, result),
      (error: unknown) => readied(of, failedBeforeSending(error)),
    );
  }

  return { prepare };
}

/** What a ready attempt needs from the attempts that made it. */
interface AttemptOwner {
  sent(): void;
  clock: Clock;
  settle(of: AttemptOf, outcome: SinkOutcome, started: number | undefined): void;
  cancelled(partition: number): void;
}

/**
 * An attempt whose request is ready to go. A class rather than an object of closures: one is
 * made per delivery, thousands a second.
 */
class ReadyAttempt implements Sendable {
  readonly partition: number;

  constructor(
    private readonly of: AttemptOf,
    private readonly prepared: PreparedAttempt,
    private readonly owner: AttemptOwner,
  ) {
    this.partition = of.partition;
  }

  send(): void {
    this.owner.sent();
    void this.run(this.owner.clock.now());
  }

  private async run(started: number): Promise<void> {
    let outcome: SinkOutcome;
    try {
      outcome = await this.prepared.send();
    } catch (error) {
      outcome = failedBeforeSending(error);
    }
    this.owner.settle(this.of, outcome, started);
  }

  cancel(): void {
    this.prepared.cancel();
    this.owner.cancelled(this.partition);
  }

  onLost(listener: (lost: Sendable) => void): void {
    this.prepared.onLost(() => listener(this));
  }
}

/** A sink that throws has not delivered; the record is worth another try. */
function failedBeforeSending(error: unknown): SinkOutcome {
  return { kind: 'retry', error: errorMessage(error) };
}
