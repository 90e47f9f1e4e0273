import type { Consumer } from 'kafkajs';

/**
 * Where a worker's consumer stands in the group. One value, replaced on every transition, so
 * that "joined but lapsed", "crashed but being restarted" and "stopping" cannot disagree.
 *
 * ```
 *             start()                   GROUP_JOIN (onAssigned)
 *   outside ───────────► outside ──────────────────────────────► member
 *   (not started)        (connecting;         ▲                  │   ▲
 *                         Kafka unreachable:  │ CRASH, STOP,     │   │ HEARTBEAT
 *                         retried with        │ DISCONNECT       │   │ (onPacing: partitions)
 *                         backoff)            │ (onLost)         ▼   │
 *                                             └─────────────── lapsed
 *                                                  no heartbeat confirmed for half the
 *                                                  session timeout, or a rejoin (onPacing: [])
 *   any ── stop() ──► stopped
 * ```
 *
 * - `outside`: not a member of the group. `consumer` is the kafkajs consumer being connected
 *   (or that kafkajs is restarting after a crash), absent between a failed start and the next
 *   try. `problem` says why the worker is not ready.
 * - `member`: joined; `partitions` are this generation's, `confirmedAt` is when the last request
 *   the coordinator answered (sync or heartbeat) left: the membership is proven as of then.
 * - `lapsed`: still a member as far as we know, but the coordinator may have dropped us and
 *   handed the partitions on, so their share is not spent until a heartbeat gets through.
 * - `stopped`: stop() was called; nothing is fetched or committed any more.
 *
 * A rejoin (the assigner is asked for its protocol) makes a member `lapsed`: from that moment
 * another member may hold the partitions. The next GROUP_JOIN ends it, and so does a heartbeat:
 * a JoinGroup refused before any rebalance began (the coordinator had moved and was still
 * loading the group) is not retried by kafkajs, which fetches on in the old generation and never
 * emits a join; its heartbeats, accepted by the new coordinator, are all that says the
 * partitions are still ours. Without that, a rolling restart left every worker holding back
 * for good while the group stood Stable.
 */
export type ConsumerState =
  | { kind: 'outside'; consumer: Consumer | undefined; problem: string }
  | { kind: 'member'; consumer: Consumer; partitions: number[]; confirmedAt: number }
  | { kind: 'lapsed'; consumer: Consumer; partitions: number[]; confirmedAt: number }
  | { kind: 'stopped' };

/** The consumer a state holds, if any. */
export function consumerOf(state: ConsumerState): Consumer | undefined {
  return state.kind === 'stopped' ? undefined : state.consumer;
}

/** Undefined when in the group (with or without partitions); otherwise why not. */
export function notReadyReason(state: ConsumerState): string | undefined {
  switch (state.kind) {
    case 'outside':
      return state.problem;
    case 'stopped':
      return 'stopping';
    default:
      return undefined;
  }
}
