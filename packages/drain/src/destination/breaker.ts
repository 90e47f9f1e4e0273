import { type BackoffOptions, backoffDelay } from '@kafka-throttle/common';
import type { SinkOutcome } from '../sinks/sink.ts';

export type BreakerState = 'closed' | 'open';

/**
 * Whose fault a failed attempt is, for the record's attempt count:
 * - `none`: delivered;
 * - `message`: the record's own (counts toward `sink.maxAttempts`; a verdict dead-letters it);
 * - `unsure`: a 401/403/404 not yet shown to be the record's: retried, and it counts;
 * - `destination`: the breaker is open: retried, and it does not count.
 */
export type Blame = 'none' | 'message' | 'unsure' | 'destination';

export interface BreakerChange {
  state: BreakerState;
  /** Why: the failure that opened it (or the probe's, when one failed), or what closed it. */
  reason: string;
  at: number;
  /** While open: when the next probe may go (on opening, and after each failed probe). */
  nextProbeAt?: number;
  /** An open breaker's probe failed: it stays open, and the next probe waits longer. */
  probeFailed?: boolean;
  /** How long it was open (on closing). */
  openForMs?: number;
  /** Probes sent while it was open (on closing). */
  probes?: number;
}

export interface BreakerStatus {
  state: BreakerState;
  reason?: string;
  since?: number;
  probes: number;
  nextProbeAt?: number;
}

export interface BreakerOptions {
  /** Distinct records that must fail in a row, with no success between, to open it. */
  records: number;
  /** Partitions this worker owns now: a worker with fewer heads needs fewer to tell. */
  partitions(): number;
  /** Waits between probes: the n-th failed probe waits backoffDelay(probe, n + 1). */
  probe: BackoffOptions;
}

export interface Breaker {
  /** When a new attempt may be readied: `now` when closed, the next probe's time when open. */
  openAt(now: number): number;
  /** An attempt of `partition` is being readied; while open it is the probe. */
  begin(partition: number): void;
  /** Whether the readied attempt of `partition` may be sent: when closed, or it is the probe. */
  allows(partition: number): boolean;
  /** The readied attempt of `partition` was given up unsent: a probe is owed again. */
  cancelled(partition: number): void;
  /** Takes an attempt's outcome into account; says whose fault a failure is. */
  observe(partition: number, record: object, outcome: SinkOutcome, now: number): Blame;
  status(): BreakerStatus;
  /** Called on every opening, failed probe and closing (logs, metrics, a group-wide hold). */
  onChange(listener: (change: BreakerChange) => void): void;
}

/** Answers that mean "misconfigured" when every record gets them, "bad record" when one does. */
const CONFIGURATION_STATUS = new Set([401, 403, 404]);

/**
 * Tells a failing destination from a failing message. A record alone cannot tell them apart,
 * so the breaker looks across records: when `records` different records fail in a row (5xx,
 * 408/425/429, timeouts, connection errors, 401/403/404) with no success between, the
 * destination is down or misconfigured. It then opens: nothing is sent but one probe at a time,
 * on an exponential schedule; the first success (or a verdict on a record, which shows the
 * destination answers) closes it. Failures while it is open are not the records' fault.
 */
export function createBreaker(options: BreakerOptions): Breaker {
  const listeners: ((change: BreakerChange) => void)[] = [];
  /** Records that failed since the last success, while closed. */
  const streak = new Set<object>();
  /** For a 401/403/404: how many successes there had been when the record first got one. */
  const firstConfigFailure = new WeakMap<object, number>();
  let successes = 0;
  let state: BreakerState = 'closed';
  let reason: string | undefined;
  let since = 0;
  let probes = 0;
  let nextProbeAt = 0;
  let probePartition: number | undefined;

  const threshold = (): number => Math.min(options.records, Math.max(2, options.partitions()));

  function emit(change: BreakerChange): void {
    for (const listener of listeners) listener(change);
  }

  function open(why: string, now: number): void {
    state = 'open';
    reason = why;
    since = now;
    probes = 0;
    nextProbeAt = now + backoffDelay(options.probe, 1);
    probePartition = undefined;
    streak.clear();
    emit({ state, reason: why, at: now, nextProbeAt });
  }

  function close(why: string, now: number): void {
    const change: BreakerChange = {
      state: 'closed',
      reason: why,
      at: now,
      openForMs: now - since,
      probes,
    };
    state = 'closed';
    reason = undefined;
    probes = 0;
    probePartition = undefined;
    emit(change);
  }

  return {
    openAt(now) {
      if (state === 'closed') return now;
      return probePartition === undefined ? nextProbeAt : Number.POSITIVE_INFINITY;
    },
    begin(partition) {
      if (state === 'open' && probePartition === undefined) {
        probePartition = partition;
        probes++;
      }
    },
    allows: (partition) => state === 'closed' || probePartition === partition,
    cancelled(partition) {
      if (state === 'open' && probePartition === partition) {
        probePartition = undefined;
        probes--;
      }
    },
    observe(partition, record, outcome, now) {
      const isProbe = state === 'open' && probePartition === partition;
      if (isProbe) probePartition = undefined;
      const destinationFailure =
        outcome.kind === 'retry' ||
        (outcome.kind === 'reject' && CONFIGURATION_STATUS.has(outcome.status ?? 0));
      if (!destinationFailure) {
        // A delivery, or a verdict on one record: either way the destination answers.
        successes++;
        streak.clear();
        if (state === 'open') {
          close(isProbe ? `probe answered ${describe(outcome)}` : 'an attempt was delivered', now);
        }
        return outcome.kind === 'delivered' ? 'none' : 'message';
      }
      if (state === 'open') {
        if (isProbe) {
          reason = describe(outcome);
          nextProbeAt = now + backoffDelay(options.probe, probes + 1);
          emit({ state, reason, at: now, nextProbeAt, probeFailed: true });
        }
        return 'destination';
      }
      streak.add(record);
      if (streak.size >= threshold()) {
        open(`${streak.size} records failed in a row, the last with ${describe(outcome)}`, now);
        return 'destination';
      }
      if (outcome.kind === 'retry') return 'message';
      const first = firstConfigFailure.get(record);
      if (first === undefined) {
        firstConfigFailure.set(record, successes);
        return 'unsure';
      }
      // Others were delivered since this record first got it: it is about this record.
      return successes > first ? 'message' : 'unsure';
    },
    status() {
      if (state === 'closed') return { state, probes };
      return {
        state,
        ...(reason !== undefined ? { reason } : {}),
        since,
        probes,
        nextProbeAt,
      };
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

function describe(outcome: SinkOutcome): string {
  if (outcome.kind === 'delivered') return `HTTP ${outcome.status ?? 200}`;
  return outcome.error;
}
