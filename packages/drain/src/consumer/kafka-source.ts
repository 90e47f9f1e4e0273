import type { Clock, Config, Logger } from '@kafka-throttle/common';
import { retryWithBackoff } from '@kafka-throttle/common';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { DrainError, errorMessage } from '../errors.ts';
import { type ConsumerState, consumerOf, notReadyReason } from './consumer-state.ts';
import type { ConsumerTuning } from './consumer-tuning.ts';
import { joinAwareAssigner } from './join-aware-assigner.ts';
import type { SourceListener } from './source-listener.ts';
import { createTopicAdmin } from './topic-admin.ts';

export interface KafkaSourceOptions {
  config: Config;
  kafka: Kafka;
  logger: Logger;
  clock: Clock;
  tuning: ConsumerTuning;
}

export interface KafkaSource {
  /** Starts connecting in the background; keeps trying while Kafka is unreachable. */
  start(listener: SourceListener): void;
  /** Undefined when in the group (with or without partitions); otherwise why not. */
  notReadyReason(): string | undefined;
  /**
   * Whether the partitions may be spent at `now` (clock time): a member whose membership the
   * coordinator confirmed within half the session timeout. False also starts holding back.
   */
  holdsLease(now: number): boolean;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  commit(offsets: { partition: number; offset: string }[]): Promise<void>;
  /** Records not yet committed by the group, per partition asked for. */
  lag(partitions: readonly number[], timeoutMs: number): Promise<Map<number, number>>;
  /** Leaves the group and disconnects. */
  stop(): Promise<void>;
}

const IGNORE: SourceListener = {
  onAssigned() {},
  onPacing() {},
  onLost() {},
  onRecords() {},
};

/**
 * The kafkajs side of a worker: joins `drain.group`, hands fetched records over without
 * waiting for their delivery, pauses and resumes partitions on request, and commits the offsets
 * it is given. kafkajs fetches from the last *resolved* offset, so every record handed over is
 * resolved at once (fetching moves on) and committing is left to the worker (autoCommit off).
 * A consumer that crashes for good is replaced; Kafka being down is waited out. Its states and
 * their transitions are written down at `ConsumerState`.
 */
export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  const { config, kafka, clock, tuning } = options;
  const topic = config.kafka.topic;
  const logger = options.logger.child({ component: 'kafka-source' });
  const admin = createTopicAdmin(kafka, config, clock);
  let state: ConsumerState = {
    kind: 'outside',
    consumer: undefined,
    problem: 'connecting to Kafka',
  };
  /** The topic's partition count as last read; partitions may be added at run time. */
  let totalPartitions = config.kafka.partitions;
  /** Aborted by stop(): ends the reconnect wait and the lease watch. */
  const stopSignal = new AbortController();
  /** Set by start(); nothing calls it before, because nothing is fetched before. */
  let listener: SourceListener = IGNORE;

  const isCurrent = (created: Consumer): boolean => consumerOf(state) === created;
  const stopping = (): boolean => state.kind === 'stopped';

  function createConsumer(): Consumer {
    const created = kafka.consumer({
      groupId: config.drain.group,
      sessionTimeout: tuning.sessionTimeout,
      heartbeatInterval: tuning.heartbeatInterval,
      maxWaitTimeInMs: tuning.maxWaitTimeInMs,
      maxBytesPerPartition: tuning.maxBytesPerPartition,
      partitionAssigners: [
        joinAwareAssigner(() => {
          if (isCurrent(created)) holdBack('rejoining the consumer group');
        }),
      ],
    });
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT, HEARTBEAT, REQUEST } = created.events;
    // An answer proves the membership as of when its request left, not when it is read: one
    // that waited in the socket while this process was stopped says nothing about the seconds
    // since. kafkajs reports the request (with its duration) just before the join or heartbeat.
    let sentAt = Number.NEGATIVE_INFINITY;
    created.on(REQUEST, ({ payload }) => {
      if (payload.apiName === 'Heartbeat' || payload.apiName === 'SyncGroup') {
        sentAt = clock.now() - payload.duration;
      }
    });

    created.on(GROUP_JOIN, ({ payload }) => {
      if (!isCurrent(created)) return;
      const partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      state = { kind: 'member', consumer: created, partitions, confirmedAt: sentAt };
      const known = Math.max(totalPartitions, ...partitions.map((p) => p + 1));
      // Called synchronously inside kafkajs's join, before its first fetch of the generation.
      listener.onAssigned(partitions, known);
      logger.info(
        { memberId: payload.memberId, partitions, totalPartitions: known },
        'joined the consumer group',
      );
      // A topic may have grown; the share is corrected as soon as the count is known.
      admin
        .countPartitions()
        .then((total) => {
          if (total === totalPartitions) return;
          totalPartitions = total;
          if (isCurrent(created) && state.kind === 'member') {
            listener.onPacing(state.partitions, total, 'the topic has a new partition count');
          }
        })
        .catch((error: unknown) => {
          logger.debug({ err: error }, 'could not refresh the partition count');
        });
    });

    created.on(HEARTBEAT, () => {
      // A stale answer gives no lease back.
      if (!isCurrent(created) || clock.now() - sentAt > lease) return;
      if (state.kind === 'member') state = { ...state, confirmedAt: sentAt };
      else if (state.kind === 'lapsed') {
        // Still a member of the same generation after all; the partitions count as new.
        const { partitions } = state;
        state = { kind: 'member', consumer: created, partitions, confirmedAt: sentAt };
        logger.info({ partitions }, 'heartbeats get through again');
        listener.onPacing(partitions, totalPartitions, 'heartbeats get through again');
      }
    });

    created.on(CRASH, ({ payload }) => {
      if (!isCurrent(created)) return;
      leaveGroup(
        `consumer crashed: ${payload.error.message}`,
        payload.restart ? created : undefined,
      );
      logger.error(
        { err: payload.error, restart: payload.restart },
        payload.restart
          ? 'consumer crashed; kafkajs restarts it'
          : 'consumer crashed; replacing it',
      );
      if (!payload.restart) void runLifecycle();
    });

    const gone = (): void => {
      if (isCurrent(created)) leaveGroup('consumer disconnected', created);
    };
    created.on(STOP, gone);
    created.on(DISCONNECT, gone);
    return created;
  }

  function leaveGroup(problem: string, consumer: Consumer | undefined): void {
    state = { kind: 'outside', consumer, problem };
    listener.onLost(problem);
  }

  /** Lapsed, not only held: after a refused rejoin only a heartbeat may follow (ConsumerState). */
  function holdBack(reason: string): void {
    if (state.kind === 'member') state = { ...state, kind: 'lapsed' };
    listener.onPacing([], totalPartitions, reason);
  }

  /**
   * The coordinator drops a member it has not heard from for sessionTimeout and gives its
   * partitions away. Stop spending them well before that can have happened: half the session
   * after the last confirmation.
   */
  const lease = tuning.sessionTimeout / 2;

  /**
   * Whether this worker may spend its partitions at `now`. Asked before every send, not only by
   * the periodic watch: a process that was stopped (SIGSTOP, a suspended VM, a long pause) runs
   * its overdue timers in any order when it resumes, and a send must not win that race against
   * the watch. A lapse found here is acted on at once.
   */
  function holdsLease(now: number): boolean {
    if (state.kind !== 'member') return false;
    if (now - state.confirmedAt <= lease) return true;
    const sinceMs = now - state.confirmedAt;
    logger.warn({ sinceMs }, 'no heartbeat got through; holding back');
    holdBack('no heartbeat confirmed within half the session timeout');
    return false;
  }

  async function watchLease(): Promise<void> {
    while (!stopping()) {
      await clock.sleep(tuning.heartbeatInterval, stopSignal.signal);
      holdsLease(clock.now());
    }
  }

  async function startConsumer(created: Consumer): Promise<void> {
    await created.connect();
    await created.subscribe({ topic, fromBeginning: true });
    await created.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        if (!isCurrent(created)) return;
        listener.onRecords(batch.partition, batch.messages);
        const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
        resolveOffset(last.offset);
      },
    });
  }

  /** One consumer per try: a kafkajs consumer whose connect failed is not reused. */
  async function connectOnce(): Promise<void> {
    if (stopping()) return;
    const created = createConsumer();
    const problem = state.kind === 'outside' ? state.problem : 'connecting to Kafka';
    state = { kind: 'outside', consumer: created, problem };
    try {
      totalPartitions = await admin.prepare();
      await startConsumer(created);
    } catch (error) {
      if (isCurrent(created)) state = { kind: 'outside', consumer: undefined, problem };
      await created.disconnect().catch(() => {});
      throw error;
    }
    // Stopped while connecting: stop() has already let go of this consumer.
    if (stopping()) await created.disconnect().catch(() => {});
  }

  async function runLifecycle(): Promise<void> {
    try {
      await retryWithBackoff(connectOnce, {
        clock,
        signal: stopSignal.signal,
        initialMs: tuning.reconnectDelayMs,
        maxMs: tuning.reconnectMaxDelayMs,
        jitter: 'none',
        shouldRetry: () => !stopping(),
        onRetry(error, attempt) {
          const problem = `Kafka unreachable: ${errorMessage(error)}`;
          if (state.kind === 'outside') state = { ...state, problem };
          logger.warn({ err: error, attempt }, 'could not start consuming; retrying');
        },
      });
    } catch {
      // Only when stopping: the loop retries every other failure.
    }
  }

  function withConsumer(action: (current: Consumer) => void): void {
    const consumer = consumerOf(state);
    if (!consumer) return;
    try {
      action(consumer);
    } catch (error) {
      // Only "not running yet / any more": the next join resets pauses anyway.
      logger.debug({ err: error }, 'pause/resume skipped');
    }
  }

  return {
    start(given) {
      if (listener !== IGNORE) return;
      listener = given;
      void runLifecycle();
      void watchLease();
    },
    notReadyReason: () => notReadyReason(state),
    holdsLease,
    pause(partitions) {
      if (partitions.length > 0) withConsumer((c) => c.pause([{ topic, partitions }]));
    },
    resume(partitions) {
      if (partitions.length > 0) withConsumer((c) => c.resume([{ topic, partitions }]));
    },
    async commit(offsets) {
      const consumer = consumerOf(state);
      if (!consumer) throw new DrainError('no_consumer', 'no consumer to commit with');
      await consumer.commitOffsets(offsets.map((o) => ({ topic, ...o })));
    },
    lag: (partitions, timeoutMs) => admin.lag(partitions, timeoutMs),
    async stop() {
      const consumer = consumerOf(state);
      state = { kind: 'stopped' };
      stopSignal.abort();
      // Not waiting for the lifecycle: while Kafka is unreachable it may be in the middle of a
      // connect that retries for seconds. Disconnecting ends that attempt; the loop then ends.
      try {
        await consumer?.disconnect();
      } catch (error) {
        logger.warn({ err: error }, 'consumer did not disconnect cleanly');
      }
      await admin.disconnect();
    },
  };
}
