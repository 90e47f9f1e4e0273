import type { Kafka, Producer } from 'kafkajs';
import type { Clock } from '../clock.ts';
import { CommonError } from '../errors.ts';
import type { ControlFollower } from './control-follower.ts';
import {
  CONTROL_KEYS,
  type ControlState,
  controlTopicName,
  type DesiredState,
  type HoldState,
} from './control-state.ts';
import { rateSwitchAt, sameRate } from './rate-switch.ts';

export interface ControlWriterOptions {
  kafka: Kafka;
  /** The request topic; the control topic is named after it. */
  topic: string;
  /** The writer's own view of the topic: versions are checked against it. */
  follower: ControlFollower;
  clock: Clock;
  /** Who writes (a client id), recorded in holds. */
  by: string;
}

export interface DesiredChange {
  /** The version the caller saw; a different current version refuses the change (409). */
  expectedVersion?: number | undefined;
  reason: string;
  apply(current: DesiredState): Pick<DesiredState, 'paused' | 'rate'>;
}

export interface ChangeResult {
  state: ControlState;
  /** False when the change asked for what already held: nothing was written. */
  written: boolean;
}

export interface ControlWriter {
  /**
   * Writes a new desired state, one version up, or throws ThrottleError `version_conflict` (a
   * stale expected version) or `rate_change_pending` (the last rate change has not settled).
   */
  change(change: DesiredChange): Promise<ChangeResult>;
  /** Writes a group-wide hold until `until`, unless one at least as long already holds. */
  hold(until: number, reason: string): Promise<boolean>;
  /** Connects ahead of the first write, so a hold is not delayed by a connection. */
  connect(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Writes to the control topic. Changes from this process go one at a time, each checked against
 * the state after reading everything written before it, so two operators working from the same
 * version get one success and one 409. (Two writer processes changing in the same instant could
 * both pass: Kafka has no compare-and-set; the later record then wins everywhere, as compaction
 * would decide.) Desired state and holds have keys of their own, so a worker's hold never
 * overwrites an operator's pause.
 */
/**
 * A rate change waits for its moment (rateSwitchAt); a second one written before then could be
 * read by some workers before that moment and by others after it, and they would switch at
 * different times. So the next rate change waits until one (larger) period after the switch,
 * which also covers the writer's clock being a little ahead of the workers'.
 */
function refuseWhileSwitching(current: DesiredState, now: number): void {
  const { previous } = current;
  if (!previous) return;
  const switchAt = rateSwitchAt(previous.rate, current.rate, previous.changedAt);
  const settledAt = switchAt + Math.max(previous.rate.periodMs, current.rate.periodMs);
  if (now >= settledAt) return;
  throw new CommonError(
    'rate_change_pending',
    `the last rate change takes effect at ${new Date(switchAt).toISOString()}: change the rate again from ${new Date(settledAt).toISOString()}`,
  );
}

export function createControlWriter(options: ControlWriterOptions): ControlWriter {
  const { kafka, follower, clock } = options;
  const topic = controlTopicName(options.topic);
  // Created now, connected on first use: making one opens nothing.
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let connected: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  function connect(): Promise<void> {
    connected ??= producer.connect().catch((error: unknown) => {
      connected = undefined;
      throw error;
    });
    return connected;
  }

  async function send(key: string, value: DesiredState | HoldState): Promise<void> {
    await connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key, value: JSON.stringify(value) }],
    });
    await follower.caughtUp();
  }

  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const result = queue.then(task, task);
    queue = result.catch(() => undefined);
    return result;
  }

  return {
    change(change) {
      return serialized(async () => {
        await follower.caughtUp();
        const current = follower.current().desired;
        if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
          throw new CommonError(
            'version_conflict',
            `the state is at version ${current.version}, not ${change.expectedVersion}: read it again and retry`,
          );
        }
        const wanted = change.apply(current);
        const rateChanged = !sameRate(wanted.rate, current.rate);
        if (!rateChanged && wanted.paused === current.paused) {
          return { state: follower.current(), written: false };
        }
        const now = clock.now();
        if (rateChanged) refuseWhileSwitching(current, now);
        const previous = rateChanged
          ? { rate: { ...current.rate }, changedAt: now }
          : current.previous;
        await send(CONTROL_KEYS.desired, {
          paused: wanted.paused,
          rate: { ...wanted.rate },
          version: current.version + 1,
          changedAt: now,
          reason: change.reason,
          ...(previous ? { previous } : {}),
        });
        return { state: follower.current(), written: true };
      });
    },
    hold(until, reason) {
      return serialized(async () => {
        const current = follower.current().hold;
        if (current && current.until >= until) return false;
        await send(CONTROL_KEYS.hold, { until, changedAt: clock.now(), reason, by: options.by });
        return true;
      });
    },
    connect,
    async close() {
      await queue;
      if (connected) await producer.disconnect();
    },
  };
}
