/**
 * The rules for docker-compose.yml's `cluster` profile: the same three-node KRaft cluster as
 * `pnpm kafka:start --brokers 3` (see scripts/kafka/cluster.ts). Called by compose-check.ts.
 */

/** A service of the `cluster` profile, as compose-check.ts read it. */
export interface ClusterNodeService {
  name: string;
  image: unknown;
  environment: Record<string, string>;
  hasHealthcheck: boolean;
}

type Check = (ok: boolean, pass: string, problem: string) => boolean;

const REPLICATED = [
  ['KAFKA_DEFAULT_REPLICATION_FACTOR', '3'],
  ['KAFKA_MIN_INSYNC_REPLICAS', '2'],
  ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', '3'],
  ['KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', '3'],
  ['KAFKA_TRANSACTION_STATE_LOG_MIN_ISR', '2'],
] as const;

export function checkClusterProfile(
  nodes: readonly ClusterNodeService[],
  kafkaVersion: string,
  check: Check,
): void {
  const names = nodes.map((n) => n.name).sort();
  if (
    !check(
      names.join(',') === 'kafka-1,kafka-2,kafka-3',
      'the cluster profile has three Kafka nodes, kafka-1 to kafka-3',
      `profile "cluster": expected services kafka-1, kafka-2 and kafka-3, got ${JSON.stringify(names)}`,
    )
  ) {
    return;
  }
  const expectedVoters = names.map((name, i) => `${i + 1}@${name}:9093`).join(',');
  const problems: string[] = [];
  const clusterIds = new Set<string>();
  for (const node of nodes) {
    const env = node.environment;
    const where = `services.${node.name}`;
    const id = node.name.slice('kafka-'.length);
    if (node.image !== `apache/kafka:${kafkaVersion}`) {
      problems.push(
        `${where}.image: expected "apache/kafka:${kafkaVersion}", got ${JSON.stringify(node.image)}`,
      );
    }
    if (!node.hasHealthcheck) problems.push(`${where}.healthcheck: missing`);
    if (env.KAFKA_NODE_ID !== id)
      problems.push(
        `${where}: KAFKA_NODE_ID expected ${id}, got ${JSON.stringify(env.KAFKA_NODE_ID)}`,
      );
    if (env.KAFKA_PROCESS_ROLES !== 'broker,controller') {
      problems.push(
        `${where}: KAFKA_PROCESS_ROLES expected "broker,controller", got ${JSON.stringify(env.KAFKA_PROCESS_ROLES)}`,
      );
    }
    if (env.KAFKA_CONTROLLER_QUORUM_VOTERS !== expectedVoters) {
      problems.push(
        `${where}: KAFKA_CONTROLLER_QUORUM_VOTERS expected "${expectedVoters}", got ${JSON.stringify(env.KAFKA_CONTROLLER_QUORUM_VOTERS)}`,
      );
    }
    if (env.KAFKA_ADVERTISED_LISTENERS !== `PLAINTEXT://${node.name}:9092`) {
      problems.push(
        `${where}: KAFKA_ADVERTISED_LISTENERS expected "PLAINTEXT://${node.name}:9092", got ${JSON.stringify(env.KAFKA_ADVERTISED_LISTENERS)}`,
      );
    }
    for (const [key, value] of REPLICATED) {
      if (env[key] !== value)
        problems.push(`${where}: ${key} expected ${value}, got ${JSON.stringify(env[key])}`);
    }
    clusterIds.add(env.CLUSTER_ID ?? '');
  }
  if (clusterIds.size !== 1 || clusterIds.has('')) {
    problems.push(
      `profile "cluster": every node needs the same CLUSTER_ID, got ${JSON.stringify([...clusterIds])}`,
    );
  }
  check(
    problems.length === 0,
    `the cluster profile's nodes run ${kafkaVersion} as one quorum (broker and controller each), replication 3 and min.insync.replicas 2 for every topic`,
    problems.join('\n    '),
  );
}
