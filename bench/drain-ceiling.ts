import { createLogger, loadConfig } from '@kafka-throttle/common';
import {
  createDrainWorker,
  type PreparedAttempt,
  type Sink,
  type SinkOutcome,
} from '@kafka-throttle/drain';
import { type Admin, Kafka, logLevel } from 'kafkajs';

export interface CeilingRun {
  plain: number;
  drain: number;
}

/**
 * Deliveries per second with no effective rate limit: the drain worker (in this process, a
 * sink that does nothing) against a plain kafkajs consumer (eachBatch doing nothing, default
 * auto-commit), each reading the same full topic from the start with a new group. Rounds
 * alternate, so load from elsewhere weighs on both alike.
 */
export async function runCeiling(options: {
  bootstrap: string;
  admin: Admin;
  records: number;
  partitions: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<CeilingRun[]> {
  const topic = `bench-ceiling-${Date.now()}`;
  const kafka = new Kafka({
    clientId: 'bench-ceiling',
    brokers: [options.bootstrap],
    logLevel: logLevel.NOTHING,
  });
  await options.admin.createTopics({
    topics: [
      { topic, numPartitions: options.partitions, replicationFactor: 1 },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ],
    waitForLeaders: true,
  });
  const producer = kafka.producer();
  await producer.connect();
  const body = Buffer.from(JSON.stringify({ hello: 'world', pad: 'x'.repeat(100) }));
  for (let start = 0; start < options.records; start += 5000) {
    const messages = [];
    for (let i = start; i < Math.min(options.records, start + 5000); i++) {
      messages.push({
        partition: i % options.partitions,
        value: body,
        headers: { id: `c-${i}`, 'content-type': 'application/json', 'received-at': '1' },
      });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  options.log(`  ceiling: ${options.records} records in ${topic}`);

  const runs: CeilingRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const plainFirst = round % 2 === 0;
    const plain = plainFirst ? await plainConsumer(kafka, topic, options.records) : 0;
    const drain = await drainWorker(options.bootstrap, topic, options.records);
    const plainAfter = plainFirst ? plain : await plainConsumer(kafka, topic, options.records);
    runs.push({ plain: plainAfter, drain });
    options.log(
      `  round ${round + 1}: plain ${plainAfter.toFixed(0)}/s, drain ${drain.toFixed(0)}/s`,
    );
  }
  await options.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {});
  return runs;
}

/** Records per second from the first batch to the last record. */
export async function plainConsumer(kafka: Kafka, topic: string, records: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `plain-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        seen += batch.messages.length;
        if (seen >= records) resolve(performance.now());
      },
    });
  });
  const last = await done;
  await consumer.disconnect();
  return (records / (last - first)) * 1000;
}

/** Deliveries per second from the first delivery to the last. */
export async function drainWorker(
  bootstrap: string,
  topic: string,
  records: number,
): Promise<number> {
  let delivered = 0;
  let first = 0;
  let resolveDone: (at: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  // A sink that does nothing, and allocates nothing per attempt, so what is measured is the
  // worker: one shared prepared attempt whose send counts.
  const delivered$: Promise<SinkOutcome> = Promise.resolve({ kind: 'delivered' });
  const prepared: PreparedAttempt = {
    kind: 'prepared',
    send() {
      if (first === 0) first = performance.now();
      delivered++;
      if (delivered === records) resolveDone(performance.now());
      return delivered$;
    },
    cancel() {},
    onLost() {},
  };
  const sink: Sink = { name: 'no-op', prepare: () => prepared, close: async () => {} };
  const config = loadConfig({
    env: {
      KAFKA_BROKERS: bootstrap,
      KAFKA_TOPIC: topic,
      DRAIN_GROUP: `drain-${Date.now()}`,
      DRAIN_PORT: '0',
      DRAIN_HOST: '127.0.0.1',
      // A million per second, far more than this machine can deliver: the limiter never says
      // no. A short period keeps the one-period wait of a newly assigned partition negligible.
      RATE_MESSAGES: '10000',
      RATE_PERIOD: '10ms',
      LOG_LEVEL: 'warn',
    },
  });
  const logger = createLogger({ level: 'warn', name: 'bench-drain' });
  const kafka = new Kafka({
    clientId: 'bench-drain',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  });
  const worker = createDrainWorker({ config, logger, kafka, sink });
  await worker.start();
  const last = await done;
  await worker.stop();
  return (records / (last - first)) * 1000;
}
