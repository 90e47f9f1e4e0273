import type { Clock, RateSetting } from '@kafka-throttle/common';
import { type Admin, AssignerProtocol } from 'kafkajs';
import type { OldestWaiting } from './oldest-waiting.ts';

export interface PartitionStatus {
  partition: number;
  endOffset: number;
  /** The group's committed offset; null before the group committed anything there. */
  committedOffset: number | null;
  /** Records not yet delivered or dead-lettered: end offset minus committed. */
  backlog: number;
  /** Age of the oldest waiting record, from when ingest received it; null if none or unknown. */
  oldestWaitingAgeMs: number | null;
}

export interface MemberStatus {
  clientId: string;
  host: string;
  partitions: number[];
  /** Its share of the group's rate: messages per period. */
  share: number;
}

export interface GroupStatus {
  partitions: PartitionStatus[];
  backlog: number;
  group: { id: string; state: string; members: MemberStatus[] };
  deadLetter: { topic: string; depth: number };
}

export interface GroupStatusOptions {
  admin: Admin;
  oldest: OldestWaiting;
  clock: Clock;
  topic: string;
  group: string;
  dlqTopic: string;
  /** Longest wait for the oldest waiting records before their ages are reported unknown. */
  peekTimeoutMs?: number;
}

/** The queue as Kafka sees it: offsets, the drain group's commits and members, the DLQ. */
export async function readGroupStatus(
  options: GroupStatusOptions,
  rate: RateSetting,
): Promise<GroupStatus> {
  const { admin, topic, group } = options;
  const [ends, committed, described, dlq] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
    admin.describeGroups([group]),
    admin.fetchTopicOffsets(options.dlqTopic),
  ]);
  const committedBy = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
  );
  const waiting = new Map<number, number>();
  const partitions = ends
    .map(({ partition, high, low }) => {
      const commit = committedBy.get(partition) ?? -1;
      const from = commit >= 0 ? Math.max(commit, Number(low)) : Number(low);
      const backlog = Math.max(0, Number(high) - from);
      if (backlog > 0) waiting.set(partition, from);
      return {
        partition,
        endOffset: Number(high),
        committedOffset: commit >= 0 ? commit : null,
        backlog,
        oldestWaitingAgeMs: null as number | null,
      };
    })
    .sort((a, b) => a.partition - b.partition);

  const receivedAt = await options.oldest
    .receivedAt(waiting, options.peekTimeoutMs ?? 1500)
    .catch(() => new Map<number, number>());
  const now = options.clock.now();
  for (const status of partitions) {
    const at = receivedAt.get(status.partition);
    if (at !== undefined) status.oldestWaitingAgeMs = Math.max(0, now - at);
  }

  const total = ends.length;
  const info = described.groups[0];
  const members = (info?.members ?? []).map((member) => {
    const decoded = member.memberAssignment.length
      ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
      : null;
    const owned = [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
    return {
      clientId: member.clientId,
      host: member.clientHost,
      partitions: owned,
      share: total === 0 ? 0 : round((rate.messages * owned.length) / total),
    };
  });
  return {
    partitions,
    backlog: partitions.reduce((sum, p) => sum + p.backlog, 0),
    group: { id: group, state: info?.state ?? 'Unknown', members },
    deadLetter: {
      topic: options.dlqTopic,
      depth: dlq.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Number(p.low)), 0),
    },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
