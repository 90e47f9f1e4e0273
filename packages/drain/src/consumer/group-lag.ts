import type { Clock } from '@kafka-throttle/common';
import type { Admin } from 'kafkajs';

export interface GroupLagQuery {
  admin: Admin;
  clock: Clock;
  topic: string;
  groupId: string;
  partitions: readonly number[];
  /** A scrape must not hang on a slow broker: past this, the answer is empty. */
  timeoutMs: number;
}

/** Records not yet committed by the group, per partition asked for (high watermark − committed). */
export async function fetchGroupLag(query: GroupLagQuery): Promise<Map<number, number>> {
  const { admin, clock, topic, partitions } = query;
  const result = new Map<number, number>();
  const work = Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: query.groupId, topics: [topic] }),
  ]);
  const timeout = new AbortController();
  const expired = clock.sleep(query.timeoutMs, timeout.signal).then(() => undefined);
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
