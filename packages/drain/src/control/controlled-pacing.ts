import type { Clock, ControlState, RateSetting } from '@kafka-throttle/common';
import { rateSwitchAt, sameRate } from '@kafka-throttle/common';

export type Permit = { granted: true } | { granted: false; nextAt: number };

/** The part of a rate limiter the worker uses: its assignment, permits and share. */
export interface Pacer {
  assign(partitions: readonly number[], totalPartitions: number): void;
  tryAcquire(): Permit;
  share(): number;
}

/** What a worker has applied, for metrics and logs. */
export interface AppliedControl {
  ready: boolean;
  paused: boolean;
  rate: RateSetting;
  /** Epoch ms before which no attempt starts; 0 when none. */
  holdUntil: number;
  version: number;
  /** A rate waiting for its switch instant, if any. */
  pending: { rate: RateSetting; at: number } | undefined;
}

export interface ControlledPacingOptions {
  /** The rate before the control topic has been read (the configuration's). */
  rate: RateSetting;
  /** A fresh limiter for a rate: new partitions wait one period in it before spending. */
  createLimiter(rate: RateSetting): Pacer;
  clock: Clock;
  /** Called after a change was applied (a new version, a hold, or a rate switched in). */
  onApplied(applied: AppliedControl, what: string): void;
}

export interface ControlledPacing extends Pacer {
  /** A state from the control topic; the caller wakes the dispatcher afterwards. */
  apply(state: ControlState): void;
  /** This worker's own hold (its destination said Retry-After), before the group's returns. */
  holdUntil(until: number): void;
  applied(): AppliedControl;
}

const NEVER: Permit = Object.freeze({ granted: false, nextAt: Number.POSITIVE_INFINITY });

/**
 * The rate limiter under the group's control state. Nothing is granted before the control topic
 * has been read, while paused, or before a hold ends. A rate change is switched in at the
 * instant every worker computes from the record (see rate-switch.ts): until then the old
 * limiter paces; from then a fresh one, whose partitions wait one new period before spending,
 * and also until one old period has passed since the switch when the old period was longer.
 * So no window of either period holds permits of both rates: one starting before the switch
 * at most the old limit, one starting after it at most the new. A worker that asked for
 * nothing meanwhile (paused, held, without partitions) still switches at that instant, so the
 * next change is computed from the same rate everywhere. Pause and hold keep the limiter and
 * its history, so resuming cannot burst beyond the rate.
 */
export function createControlledPacing(options: ControlledPacingOptions): ControlledPacing {
  const { clock } = options;
  let rate = options.rate;
  let limiter = options.createLimiter(rate);
  let assignment: { partitions: readonly number[]; total: number } | undefined;
  let ready = false;
  let paused = false;
  let version = 0;
  let groupHold = 0;
  let localHold = 0;
  let pending: { rate: RateSetting; at: number } | undefined;
  /** When the limiter of the rate just switched to gets its partitions (undefined: it has). */
  let quietUntil: number | undefined;

  function applied(): AppliedControl {
    return { ready, paused, rate, holdUntil: Math.max(groupHold, localHold), version, pending };
  }

  /**
   * `at`: the switch instant; undefined when nobody in the group spent the rate before it (the
   * first state of a topic that never changed rate). `previousPeriodMs`: the period the group
   * paced at until `at`, by default this worker's.
   */
  function switchTo(
    next: RateSetting,
    at: number | undefined,
    previousPeriodMs = rate.periodMs,
  ): void {
    rate = next;
    pending = undefined;
    limiter = options.createLimiter(next);
    // The new limiter's partitions wait one new period from the moment they are assigned; a
    // shorter new period waits first for the old one to end, whose window began before `at`.
    quietUntil =
      at === undefined ? clock.now() : at + Math.max(0, previousPeriodMs - next.periodMs);
    settle(clock.now());
  }

  /** Brings the switch and the quiet spell after it up to `now`; true if a switch happened. */
  function settle(now: number): boolean {
    let switched = false;
    if (pending && now >= pending.at) {
      switchTo(pending.rate, pending.at);
      switched = true;
    }
    if (quietUntil !== undefined && now >= quietUntil) {
      quietUntil = undefined;
      if (assignment) limiter.assign(assignment.partitions, assignment.total);
    }
    return switched;
  }

  return {
    apply(state) {
      const { desired, hold } = state;
      const first = !ready;
      const changes: string[] = [];
      if (settle(clock.now())) changes.push('rate switched');
      if (first) changes.push('first state');
      if (desired.version !== version) changes.push(`version ${desired.version}`);
      if (desired.paused !== paused) changes.push(desired.paused ? 'paused' : 'resumed');
      ready = true;
      paused = desired.paused;
      version = desired.version;
      const target = pending?.rate ?? rate;
      const before = first ? desired.previous?.rate : undefined;
      const beforeUntil =
        before && desired.previous
          ? rateSwitchAt(before, desired.rate, desired.previous.changedAt)
          : 0;
      if (before && !sameRate(before, desired.rate) && beforeUntil > clock.now()) {
        // Started while a change waits for its instant: the group paces at the rate before it
        // (the record says which) until then, and so does this worker.
        if (!sameRate(rate, before)) switchTo(before, undefined);
        pending = { rate: desired.rate, at: beforeUntil };
        changes.push('rate switch scheduled');
      } else if (pending && sameRate(rate, desired.rate)) {
        // Changed back before the switch: the limiter in force stays, with its history.
        pending = undefined;
        changes.push('rate switch cancelled');
      } else if (!sameRate(target, desired.rate)) {
        // Nothing was granted here before the first state, so its rate applies at once; but the
        // rest of the group may have spent the rate before it until its switch, and a switch
        // less than one old period ago still weighs on the windows that began before it.
        const at = first
          ? before && !sameRate(before, desired.rate)
            ? beforeUntil
            : undefined
          : rateSwitchAt(rate, desired.rate, desired.changedAt);
        if (at === undefined || at <= clock.now()) {
          switchTo(desired.rate, at, first ? before?.periodMs : undefined);
          changes.push('rate switched');
        } else {
          pending = { rate: desired.rate, at };
          changes.push('rate switch scheduled');
        }
      }
      const until = hold?.until ?? 0;
      if (until !== groupHold) {
        groupHold = until;
        if (until > clock.now()) changes.push('hold');
      }
      if (changes.length > 0) options.onApplied(applied(), changes.join(', '));
    },
    holdUntil(until) {
      if (until <= localHold) return;
      localHold = until;
      options.onApplied(applied(), 'hold (own destination)');
    },
    applied,
    assign(partitions, total) {
      assignment = { partitions: [...partitions], total };
      if (quietUntil === undefined) limiter.assign(partitions, total);
    },
    tryAcquire() {
      if (!ready || paused) return NEVER;
      const now = clock.now();
      const holdEnds = Math.max(groupHold, localHold);
      if (now < holdEnds) return { granted: false, nextAt: holdEnds };
      if (settle(now)) options.onApplied(applied(), 'rate switched');
      if (quietUntil !== undefined) return { granted: false, nextAt: quietUntil };
      const permit = limiter.tryAcquire();
      if (permit.granted || !pending) return permit;
      return { granted: false, nextAt: Math.min(permit.nextAt, pending.at) };
    },
    share: () => limiter.share(),
  };
}
