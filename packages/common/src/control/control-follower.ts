import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { retryWithBackoff } from '../backoff.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { CommonError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  CONTROL_KEYS,
  type ControlState,
  configuredState,
  controlTopicName,
  parseDesired,
  parseHold,
} from './control-state.ts';
import {
  createCountsTally,
  type DeliveryCounts,
  isCountsKey,
  type OpenBreaker,
} from './delivery-counts.ts';

export interface ControlFollowerOptions {
  kafka: Kafka;
  config: Pick<Config, 'kafka' | 'rate'>;
  logger: Logger;
  clock: Clock;
  /** Part of the follower's throwaway group id ("drain", "admin"), for an operator's listing. */
  role: string;
}

export type ControlListener = (state: ControlState, previous: ControlState) => void;

/**
 * Reads the control topic from its first record and keeps reading, outside any consumer group
 * that delivers work: what it knows is the group's control state.
 */
export interface ControlFollower {
  /**
   * Starts reading; resolves once every record written before the call has been applied
   * (retrying while Kafka cannot be reached, until `stop`).
   */
  start(): Promise<void>;
  /** True once `start` has caught up with the topic as it was when `start` was called. */
  readonly ready: boolean;
  current(): ControlState;
  /** The workers' delivery counts summed (see delivery-counts.ts); they never change the state. */
  counts(): DeliveryCounts;
  /** The workers whose destination breaker is open, as their latest fresh reports say. */
  openBreakers(): (OpenBreaker & { worker: string })[];
  /** Called after each change that alters the state; returns the unsubscribe function. */
  onChange(listener: ControlListener): () => void;
  /** Resolves once every record written before the call has been applied: read your writes. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * kafkajs has no consumer without a group (no manual assignment) and no public fetch call, so
 * the follower is a consumer in a group of its own: a unique throwaway id, never committing,
 * always starting from the earliest offset. That is exactly "outside the group": the drain
 * group's rebalances never touch it, a restart reads the whole (compacted, tiny) topic again,
 * and an empty group without offsets is dropped by the broker after the consumer leaves.
 *
 * Within a key the last record wins, the same rule compaction applies, so a follower that
 * starts after compaction reaches the state that one reading since the beginning reached; but a
 * hold is kept while a later record would only shorten it.
 */
export function createControlFollower(options: ControlFollowerOptions): ControlFollower {
  const { kafka, clock } = options;
  const topic = controlTopicName(options.config.kafka.topic);
  const logger = options.logger.child({ component: 'control', controlTopic: topic });
  const groupId = [
    options.config.kafka.clientId,
    'control',
    options.role,
    hostname(),
    process.pid,
    randomBytes(4).toString('hex'),
  ].join('.');
  const listeners = new Set<ControlListener>();
  /** Per partition, the offset of the next record to apply. */
  const next = new Map<number, number>();
  const waiters = new Set<{ targets: Map<number, number>; resolve: () => void }>();
  const stopping = new AbortController();
  let state = configuredState(options.config);
  const counts = createCountsTally();
  let ready = false;
  let consumer: Consumer | undefined;
  let running = false;
  let admin: Admin | undefined;

  function apply(key: string, value: Buffer | null, offset: string): void {
    const previous = state;
    // Counts are written every second by every worker: no listener (pacing) hears of them.
    if (isCountsKey(key)) {
      if (!counts.apply(key, value)) logger.warn({ key, offset }, 'malformed counts ignored');
      return;
    }
    if (key === CONTROL_KEYS.desired) {
      const desired = parseDesired(value);
      if (!desired) return void logger.warn({ key, offset }, 'malformed control record ignored');
      state = { ...state, desired, source: 'topic' };
    } else if (key === CONTROL_KEYS.hold) {
      const hold = parseHold(value);
      if (!hold) return void logger.warn({ key, offset }, 'malformed control record ignored');
      // Holds only ever lengthen: two workers writing at once (one asked for 3 s by a 429, the
      // other for 200 ms by its breaker) must not let the later, shorter record cut the first.
      if (state.hold && state.hold.until >= hold.until) return;
      state = { ...state, hold };
    } else {
      return;
    }
    for (const listener of listeners) {
      try {
        listener(state, previous);
      } catch (error) {
        logger.error({ err: error }, 'control listener failed');
      }
    }
  }

  async function eachBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      apply(message.key?.toString('utf8') ?? '', message.value, message.offset);
    }
    const last = batch.messages.at(-1);
    if (last) next.set(batch.partition, Number(last.offset) + 1);
    settleWaiters();
  }

  function settleWaiters(): void {
    for (const waiter of waiters) {
      const done = [...waiter.targets].every(([p, end]) => (next.get(p) ?? 0) >= end);
      if (done) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  /** The end offset of every partition that holds records not yet applied. */
  async function endOffsets(): Promise<Map<number, number>> {
    admin ??= kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    const targets = new Map<number, number>();
    for (const { partition, high, low } of offsets) {
      // Offsets before `low` are gone (retention); a topic whose low is its high holds nothing.
      if (Number(high) > Number(low)) targets.set(partition, Number(high));
    }
    return targets;
  }

  async function caughtUp(): Promise<void> {
    const targets = await endOffsets();
    await new Promise<void>((resolve) => {
      waiters.add({ targets, resolve });
      settleWaiters();
    });
  }

  async function connect(): Promise<void> {
    const created = kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // Long polls return as soon as a record arrives; this bounds an idle poll only.
      maxWaitTimeInMs: 1000,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    consumer = created;
    await created.connect();
    await created.subscribe({ topic, fromBeginning: true });
    await created.run({ autoCommit: false, eachBatch });
    // Stopped while connecting: stop() disconnected what there was then, not this late joiner.
    if (stopping.signal.aborted) {
      await created.disconnect().catch(() => undefined);
      throw new CommonError('stopped', 'control follower stopped while connecting');
    }
    running = true;
  }

  /**
   * Rejects once stop() is called. A kafkajs connect retries on its own for seconds and cannot
   * be cut short; start() must not make a stop wait for it, or an unreachable Kafka would turn
   * a graceful stop into an overrun one.
   */
  const stopped = new Promise<never>((_, reject) => {
    stopping.signal.addEventListener('abort', () =>
      reject(new CommonError('stopped', 'control follower stopped before it caught up')),
    );
  });
  // Nobody may be awaiting start() when stop() is called.
  stopped.catch(() => undefined);

  return {
    async start() {
      const following = retryWithBackoff(
        async () => {
          if (!running) {
            await consumer?.disconnect().catch(() => undefined);
            await connect();
          }
          await caughtUp();
        },
        {
          clock,
          initialMs: 250,
          maxMs: 5000,
          signal: stopping.signal,
          onRetry: (error, attempt, delayMs) =>
            logger.warn({ err: error, attempt, delayMs }, 'control topic not read yet; retrying'),
        },
      );
      // What is left of an abandoned attempt ends on its own; its failure is not news.
      following.catch(() => undefined);
      await Promise.race([following, stopped]);
      ready = true;
      const { desired, hold, source } = state;
      logger.info(
        { groupId, source, version: desired.version, paused: desired.paused, hold: hold?.until },
        'following the control topic',
      );
    },
    get ready() {
      return ready;
    },
    current: () => state,
    counts: () => counts.total(),
    openBreakers: () => counts.openBreakers(clock.now()),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    caughtUp,
    async stop() {
      stopping.abort();
      for (const waiter of waiters) waiter.resolve();
      waiters.clear();
      await Promise.allSettled([consumer?.disconnect(), admin?.disconnect()]);
    },
  };
}
