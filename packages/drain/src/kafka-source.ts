import type { Clock, Config, Logger } from '@kafka-throttle/common';
import { configuredTopics, ensureTopics } from '@kafka-throttle/common';
import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { joinAwareAssigner } from './join-aware-assigner.ts';

export interface ConsumerTuning {
  /** A member silent this long is dropped from the group and its partitions move on. */
  sessionTimeout: number;
  /** Also how soon a member notices that a rebalance started. */
  heartbeatInterval: number;
  /**
   * Longest wait of a fetch with nothing new, and kafkajs's sleep when every partition is
   * paused: it bounds how late a resumed partition is fetched again (the default is 5 s).
   */
  maxWaitTimeInMs: number;
  maxBytesPerPartition: number;
  /** Pause between attempts to reach Kafka while it is down. */
  reconnectDelayMs: number;
}

export const defaultConsumerTuning: ConsumerTuning = {
  sessionTimeout: 10_000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 100,
  maxBytesPerPartition: 1_048_576,
  reconnectDelayMs: 1000,
};

export interface KafkaSourceOptions {
  config: Config;
  kafka: Kafka;
  logger: Logger;
  clock: Clock;
  tuning: ConsumerTuning;
  /**
   * A new generation: the partitions of the request topic this worker now owns. kafkajs fetches
   * them again from their committed offsets, so anything queued may be dropped.
   */
  onAssigned(partitions: number[], totalPartitions: number): void;
  /**
   * Same generation, different pace: [] while a rejoin is starting or heartbeats do not get
   * through (the partitions may be someone else's by now), the partitions again once they do,
   * or a new partition count. Queued records stay: nothing will be fetched again.
   */
  onPacing(partitions: number[], totalPartitions: number, reason: string): void;
  /** The consumer is gone (crash, disconnect): nothing is owned any more. */
  onLost(reason: string): void;
  /** Fetched records of one partition, in offset order. Must return quickly. */
  onRecords(partition: number, messages: KafkaMessage[]): void;
}

export interface KafkaSource {
  /** Starts connecting in the background; keeps trying while Kafka is unreachable. */
  start(): void;
  /** Undefined when in the group (with or without partitions); otherwise why not. */
  notReadyReason(): string | undefined;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  commit(offsets: { partition: number; offset: string }[]): Promise<void>;
  /** Records not yet committed by the group, per partition asked for. */
  lag(partitions: readonly number[], timeoutMs: number): Promise<Map<number, number>>;
  /** Leaves the group and disconnects. */
  stop(): Promise<void>;
}

/**
 * The kafkajs side of a worker: joins `drain.group`, hands fetched records over without
 * waiting for their delivery, pauses and resumes partitions on request, and commits the offsets
 * it is given. kafkajs fetches from the last *resolved* offset, so every record handed over is
 * resolved at once (fetching moves on) and committing is left to the worker (autoCommit off).
 * A consumer that crashes for good is replaced; Kafka being down is waited out.
 */
export function createKafkaSource(options: KafkaSourceOptions): KafkaSource {
  const { config, kafka, clock, tuning } = options;
  const topic = config.kafka.topic;
  const logger = options.logger.child({ component: 'kafka-source' });
  const admin: Admin = kafka.admin();
  let consumer: Consumer | undefined;
  let totalPartitions = config.kafka.partitions;
  let stopping = false;
  let joined = false;
  let problem: string | undefined = 'connecting to Kafka';
  let adminConnected = false;
  /** Last time the coordinator confirmed our membership (join or heartbeat), clock ms. */
  let confirmedAt = 0;
  let lapsed = false;
  let current: number[] = [];
  let leaseTimer: AbortController | undefined;
  const stopSignal = new AbortController();
  let lifecycle: Promise<void> | undefined;

  async function prepareTopics(): Promise<void> {
    if (!adminConnected) {
      await admin.connect();
      adminConnected = true;
    }
    await ensureTopics(admin, configuredTopics(config));
    totalPartitions = await countPartitions();
  }

  async function countPartitions(): Promise<number> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? totalPartitions;
  }

  function createConsumer(): Consumer {
    const created = kafka.consumer({
      groupId: config.drain.group,
      sessionTimeout: tuning.sessionTimeout,
      heartbeatInterval: tuning.heartbeatInterval,
      maxWaitTimeInMs: tuning.maxWaitTimeInMs,
      maxBytesPerPartition: tuning.maxBytesPerPartition,
      partitionAssigners: [
        joinAwareAssigner(() => {
          if (consumer === created) holdBack('rejoining the consumer group');
        }),
      ],
    });
    const { GROUP_JOIN, CRASH, STOP, DISCONNECT, HEARTBEAT } = created.events;

    created.on(GROUP_JOIN, ({ payload }) => {
      if (consumer !== created) return;
      joined = true;
      lapsed = false;
      confirmedAt = clock.now();
      problem = undefined;
      const partitions = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
      current = partitions;
      const known = Math.max(totalPartitions, ...partitions.map((p) => p + 1));
      // Called synchronously inside kafkajs's join, before its first fetch of the generation.
      options.onAssigned(partitions, known);
      logger.info(
        { memberId: payload.memberId, partitions, totalPartitions: known },
        'joined the consumer group',
      );
      // A topic may have grown; the share is corrected as soon as the count is known.
      countPartitions()
        .then((total) => {
          if (total !== totalPartitions) {
            totalPartitions = total;
            if (consumer === created && joined && !lapsed) {
              options.onPacing(current, total, 'the topic has a new partition count');
            }
          }
        })
        .catch((error: unknown) => {
          logger.debug({ err: error }, 'could not refresh the partition count');
        });
    });

    created.on(HEARTBEAT, () => {
      if (consumer !== created || !joined) return;
      confirmedAt = clock.now();
      if (lapsed) {
        // Still a member of the same generation after all; the partitions count as new.
        lapsed = false;
        logger.info({ partitions: current }, 'heartbeats get through again');
        options.onPacing(current, totalPartitions, 'heartbeats get through again');
      }
    });

    created.on(CRASH, ({ payload }) => {
      if (consumer !== created) return;
      leaveGroupState(`consumer crashed: ${payload.error.message}`);
      logger.error(
        { err: payload.error, restart: payload.restart },
        payload.restart
          ? 'consumer crashed; kafkajs restarts it'
          : 'consumer crashed; replacing it',
      );
      if (!payload.restart && !stopping) {
        consumer = undefined;
        lifecycle = runLifecycle();
      }
    });

    const gone = (): void => {
      if (consumer === created && !stopping) leaveGroupState('consumer disconnected');
    };
    created.on(STOP, gone);
    created.on(DISCONNECT, gone);
    return created;
  }

  function leaveGroupState(reason: string): void {
    joined = false;
    problem = reason;
    current = [];
    options.onLost(reason);
  }

  function holdBack(reason: string): void {
    options.onPacing([], totalPartitions, reason);
  }

  /**
   * The coordinator drops a member it has not heard from for sessionTimeout and gives its
   * partitions away. Stop spending them well before that can have happened.
   */
  async function watchLease(): Promise<void> {
    leaseTimer = new AbortController();
    const lease = tuning.sessionTimeout / 2;
    while (!stopping) {
      await clock.sleep(tuning.heartbeatInterval, leaseTimer.signal);
      if (stopping) return;
      if (joined && !lapsed && clock.now() - confirmedAt > lease) {
        lapsed = true;
        logger.warn(
          { sinceMs: clock.now() - confirmedAt },
          'no heartbeat got through; holding back',
        );
        holdBack('no heartbeat confirmed within half the session timeout');
      }
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
        if (consumer !== created) return;
        options.onRecords(batch.partition, batch.messages);
        const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
        resolveOffset(last.offset);
      },
    });
  }

  async function runLifecycle(): Promise<void> {
    for (let attempt = 0; !stopping; attempt++) {
      const created = createConsumer();
      consumer = created;
      try {
        await prepareTopics();
        await startConsumer(created);
        // Stopped while connecting: stop() has already let go of this consumer.
        if (stopping) await created.disconnect().catch(() => {});
        return;
      } catch (error) {
        if (stopping) return;
        problem = `Kafka unreachable: ${error instanceof Error ? error.message : String(error)}`;
        logger.warn({ err: error, attempt }, 'could not start consuming; retrying');
        consumer = undefined;
        await created.disconnect().catch(() => {});
        const delay = Math.min(tuning.reconnectDelayMs * 2 ** Math.min(attempt, 3), 10_000);
        await clock.sleep(delay, stopSignal.signal);
      }
    }
  }

  function withConsumer(action: (current: Consumer) => void): void {
    if (!consumer) return;
    try {
      action(consumer);
    } catch (error) {
      // Only "not running yet / any more": the next join resets pauses anyway.
      logger.debug({ err: error }, 'pause/resume skipped');
    }
  }

  return {
    start() {
      if (lifecycle) return;
      lifecycle = runLifecycle();
      void watchLease();
    },
    notReadyReason: () => (stopping ? 'stopping' : joined ? undefined : problem),
    pause(partitions) {
      if (partitions.length > 0) withConsumer((c) => c.pause([{ topic, partitions }]));
    },
    resume(partitions) {
      if (partitions.length > 0) withConsumer((c) => c.resume([{ topic, partitions }]));
    },
    async commit(offsets) {
      if (!consumer) throw new Error('no consumer to commit with');
      await consumer.commitOffsets(offsets.map((o) => ({ topic, ...o })));
    },
    async lag(partitions, timeoutMs) {
      const result = new Map<number, number>();
      if (partitions.length === 0 || !adminConnected) return result;
      const work = Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: config.drain.group, topics: [topic] }),
      ]);
      const timeout = new AbortController();
      const expired = clock.sleep(timeoutMs, timeout.signal).then(() => undefined);
      const answer = await Promise.race([work.catch(() => undefined), expired]);
      timeout.abort();
      work.catch(() => {});
      if (!answer) return result;
      const [ends, group] = answer;
      const committed = new Map(
        (group[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
      );
      for (const end of ends) {
        if (!partitions.includes(end.partition)) continue;
        const done = committed.get(end.partition) ?? -1;
        result.set(end.partition, Number(end.high) - (done >= 0 ? done : Number(end.low)));
      }
      return result;
    },
    async stop() {
      stopping = true;
      stopSignal.abort();
      leaseTimer?.abort();
      // Not waiting for the lifecycle: while Kafka is unreachable it may be in the middle of a
      // connect that retries for seconds. Disconnecting ends that attempt; the loop then ends.
      const current = consumer;
      consumer = undefined;
      joined = false;
      try {
        await current?.disconnect();
      } catch (error) {
        logger.warn({ err: error }, 'consumer did not disconnect cleanly');
      }
      await admin.disconnect().catch(() => {});
    },
  };
}
