import type { Clock, ControlState, RateSetting } from '@kafka-throttle/common';
import { rateSwitchAt, sameRate } from './rate-switch.ts';

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
 * limiter paces; from then a fresh one, whose partitions wait one period before spending, so
 * no window of a period holds permits of both rates: before the switch at most the old limit,
 * after it at most the new. Pause and hold keep the limiter and its history, so resuming
 * cannot burst beyond the rate.
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

  function applied(): AppliedControl {
    return { ready, paused, rate, holdUntil: Math.max(groupHold, localHold), version, pending };
  }

  function switchTo(next: RateSetting): void {
    rate = next;
    pending = undefined;
    limiter = options.createLimiter(next);
    if (assignment) limiter.assign(assignment.partitions, assignment.total);
  }

  return {
    apply(state) {
      const { desired, hold } = state;
      const first = !ready;
      const changes: string[] = [];
      if (first) changes.push('first state');
      if (desired.version !== version) changes.push(`version ${desired.version}`);
      if (desired.paused !== paused) changes.push(desired.paused ? 'paused' : 'resumed');
      ready = true;
      paused = desired.paused;
      version = desired.version;
      const target = pending?.rate ?? rate;
      if (pending && sameRate(rate, desired.rate)) {
        // Changed back before the switch: the limiter in force stays, with its history.
        pending = undefined;
        changes.push('rate switch cancelled');
      } else if (!sameRate(target, desired.rate)) {
        // Nothing was granted before the first state: its rate applies at once.
        const at = first ? 0 : rateSwitchAt(rate, desired.rate, desired.changedAt);
        if (at <= clock.now()) {
          switchTo(desired.rate);
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
      limiter.assign(partitions, total);
    },
    tryAcquire() {
      if (!ready || paused) return NEVER;
      const now = clock.now();
      const holdEnds = Math.max(groupHold, localHold);
      if (now < holdEnds) return { granted: false, nextAt: holdEnds };
      if (pending && now >= pending.at) {
        switchTo(pending.rate);
        options.onApplied(applied(), 'rate switched');
      }
      const permit = limiter.tryAcquire();
      if (permit.granted || !pending) return permit;
      return { granted: false, nextAt: Math.min(permit.nextAt, pending.at) };
    },
    share: () => limiter.share(),
  };
}
