import { type PartitionAssigner, PartitionAssigners } from 'kafkajs';

/**
 * kafkajs's round-robin assigner, plus a call to `onJoining` each time this member is about to
 * send JoinGroup. That is the moment it gives its partitions up (eager rebalancing): from then
 * on another member may be handed them, so this one must stop spending their share. kafkajs
 * rejoins along several paths (rebalance seen by a heartbeat, unknown member, stale metadata,
 * restart after a crash) and announces only some of them; every one of them asks the assigners
 * for their protocol metadata right before sending JoinGroup.
 */
export function joinAwareAssigner(onJoining: () => void): PartitionAssigner {
  return (config) => {
    const inner = PartitionAssigners.roundRobin(config);
    return {
      name: inner.name,
      version: inner.version,
      assign: (group) => inner.assign(group),
      protocol(subscription) {
        onJoining();
        return inner.protocol(subscription);
      },
    };
  };
}
