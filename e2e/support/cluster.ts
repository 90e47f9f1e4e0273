import { type Admin, Kafka, logLevel } from 'kafkajs';
import { waitUntil } from './wait.ts';

/** An admin client for looking at a cluster from the outside (leaders, replicas, offsets). */
export function clusterAdmin(bootstrap: string): Admin {
  return new Kafka({
    clientId: 'e2e-cluster-observer',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  }).admin();
}

/** Partitions led per node id. */
export async function leaderCounts(admin: Admin, topic: string): Promise<Map<number, number>> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const counts = new Map<number, number>();
  for (const p of topics[0]?.partitions ?? [])
    counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return counts;
}

/** The node leading the most partitions of `topic`. */
export async function busiestLeader(admin: Admin, topic: string): Promise<number> {
  const counts = [...(await leaderCounts(admin, topic)).entries()].sort((a, b) => b[1] - a[1]);
  const first = counts[0];
  if (!first) throw new Error(`${topic} has no partition leaders`);
  return first[0];
}

/**
 * The node coordinating `group`: the leader of its partition of __consumer_offsets, which Kafka
 * picks as abs(Java's String.hashCode(group)) mod the partitions of that topic.
 */
export async function groupCoordinator(admin: Admin, group: string): Promise<number> {
  let hash = 0;
  for (let i = 0; i < group.length; i++) hash = (Math.imul(31, hash) + group.charCodeAt(i)) | 0;
  const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
  const partitions = topics[0]?.partitions ?? [];
  const index = (hash & 0x7fffffff) % partitions.length;
  const leader = partitions.find((p) => p.partitionId === index)?.leader;
  if (leader === undefined) throw new Error(`no leader for __consumer_offsets-${index}`);
  return leader;
}

/** Waits until `node` is back in the in-sync replicas of every partition of `topics`. */
export async function waitInSync(
  admin: Admin,
  topics: string[],
  node: number,
  timeoutMs: number,
): Promise<void> {
  await waitUntil(
    `node ${node} in sync again for ${topics.join(', ')}`,
    async () => {
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        return metadata.every((t) => t.partitions.every((p) => p.isr.includes(node)));
      } catch {
        return false;
      }
    },
    timeoutMs,
    500,
  );
}

/**
 * `read`'s answer once it gives one: right after a broker dies, the admin's requests to it fail
 * (a reset connection, a leader not yet moved) until the cluster has elected around it.
 */
export async function readThroughFailover<T>(
  what: string,
  read: () => Promise<T>,
  timeoutMs: number,
  accept: (value: T) => boolean = () => true,
): Promise<T> {
  let answer: { value: T } | undefined;
  let lastError = '';
  await waitUntil(
    what,
    async () => {
      try {
        const value = await read();
        if (!accept(value)) return false;
        answer = { value };
        return true;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        return false;
      }
    },
    timeoutMs,
    500,
    () => `last error: ${lastError || 'none'}`,
  );
  return (answer as { value: T }).value;
}

/** Committed offsets of `group` on `topic`, by partition. */
export async function committedOffsets(
  admin: Admin,
  group: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const [entry] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** How long 503s lasted: from the first to the last answer with that status (0 when none). */
export function unavailableSpanMs(
  answers: readonly { kind: string; status?: number }[],
  answeredAt: readonly number[],
  from = 0,
): { count: number; spanMs: number } {
  const times = answers.flatMap((a, i) =>
    i >= from && a.kind === 'answer' && a.status === 503 ? [answeredAt[i] as number] : [],
  );
  if (times.length === 0) return { count: 0, spanMs: 0 };
  return { count: times.length, spanMs: (times.at(-1) as number) - (times[0] as number) };
}
