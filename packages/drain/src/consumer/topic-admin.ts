import { type Clock, type Config, configuredTopics, ensureTopics } from '@kafka-throttle/common';
import type { Admin, Kafka } from 'kafkajs';

export interface TopicAdmin {
  /** Connects (once), creates the configured topics if missing, returns the partition count. */
  prepare(): Promise<number>;
  /** The request topic's partition count as the broker has it now. */
  countPartitions(): Promise<number>;
  /**
   * Records not yet committed by the group, per partition asked for (high watermark −
   * committed); empty before connecting or past `timeoutMs`, so a scrape never hangs.
   */
  lag(partitions: readonly number[], timeoutMs: number): Promise<Map<number, number>>;
  disconnect(): Promise<void>;
}

/** What a worker asks Kafka's admin API: topics, partition counts and the group's lag. */
export function createTopicAdmin(kafka: Kafka, config: Config, clock: Clock): TopicAdmin {
  const admin: Admin = kafka.admin();
  const topic = config.kafka.topic;
  let connected = false;

  async function countPartitions(): Promise<number> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? config.kafka.partitions;
  }

  return {
    async prepare() {
      if (!connected) {
        await admin.connect();
        connected = true;
      }
      await ensureTopics(admin, configuredTopics(config));
      return countPartitions();
    },
    countPartitions,
    lag: (partitions, timeoutMs) =>
      partitions.length === 0 || !connected
        ? Promise.resolve(new Map())
        : fetchGroupLag(admin, clock, config, partitions, timeoutMs),
    disconnect: () => admin.disconnect().catch(() => {}),
  };
}

async function fetchGroupLag(
  admin: Admin,
  clock: Clock,
  config: Config,
  partitions: readonly number[],
  timeoutMs: number,
): Promise<Map<number, number>> {
  const topic = config.kafka.topic;
  const result = new Map<number, number>();
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
}
