import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { testKafkaWithAdmin, uniqueName } from '../../../test-support/kafka.ts';
import { produceBacklog } from './support/backlog.ts';
import { type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker, whileDraining } from './support/in-process.ts';
import { runReplayCommand } from './support/replay-process.ts';
import { createTopicPair, recordCount } from './support/topics.ts';
import { waitFor } from './support/wait.ts';

const { kafka, admin } = testKafkaWithAdmin('drain-replay-test');

async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('replay-reader') });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  void consumer.run({
    eachMessage: async ({ message }) => {
      messages.push(message);
    },
  });
  try {
    await waitFor(() => messages.length >= count, 30_000, `${count} records in ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describe('pnpm replay', () => {
  it('round trip: dead-lettered, replayed, delivered once with the same id and bytes', async () => {
    const { topic, dlq } = await createTopicPair(admin, uniqueName('replay'), 2);
    const env = { KAFKA_TOPIC: topic, DLQ_TOPIC: dlq };
    await produceBacklog(kafka, topic, { count: 4, partitions: 2, prefix: 'rp' });
    let healed = false;
    const destination = await startDestination(
      (arrival): Reply =>
        arrival.id === 'rp-1' && !healed ? { status: 422, body: 'bad' } : { status: 200 },
    );
    const { worker } = inProcessWorker({
      ...env,
      DRAIN_GROUP: uniqueName('replay-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
    });
    await whileDraining(worker, destination, async () => {
      await waitFor(async () => (await recordCount(admin, dlq)) === 1, 30_000, 'rp-1 dead');
      // A record someone else wrote to the dead-letter topic: skipped, named by its offset.
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: dlq, acks: -1, messages: [{ value: 'not ours' }] });
      await producer.disconnect();
      healed = true;

      const dry = await runReplayCommand(['--reason', 'status', '--dry-run'], env);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/^would move 0@0 id=rp-1 reason=status status=422 attempts=1 /);
      expect(await recordCount(admin, topic)).toBe(4);

      const first = await runReplayCommand(['--reason', 'status'], env);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^moved 0@0 id=rp-1 reason=status/);
      expect(first.stderr).toContain('moved 1,');
      const rerun = await runReplayCommand(['--reason', 'status'], env);
      expect(rerun.code).toBe(0);
      expect(rerun.stderr).toContain('moved 0,');
      // Every record of the topic, the malformed one too, is looked at by a run without filter.
      const all = await runReplayCommand(['--dry-run', '--id', 'nobody'], env);
      expect(all.stderr).toContain('"offset":"1"');
      expect(all.stderr).toContain('skipped a dead-letter record without the expected headers');

      await destination.until((a) => a.some((x) => x.id === 'rp-1' && x.status === 200), 30_000);
      // Time for a doubled replay to show up, if there were one.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    });
    expect(destination.arrivals.filter((a) => a.id === 'rp-1').map((a) => a.status)).toEqual([
      422, 200,
    ]);
    expect(await recordCount(admin, topic)).toBe(5);
    const records = await readAll(topic, 5);
    const original = records.find(
      (m) => m.headers?.id?.toString() === 'rp-1' && !m.headers?.['x-replay-count'],
    );
    const replayed = records.find((m) => m.headers?.['x-replay-count']);
    expect(replayed?.value).toEqual(original?.value);
    expect(replayed?.key).toEqual(original?.key);
    expect(replayed?.headers?.['x-replay-count']?.toString()).toBe('1');
    for (const name of ['id', 'content-type', 'received-at']) {
      expect(replayed?.headers?.[name]).toEqual(original?.headers?.[name]);
    }
    expect(Object.keys(replayed?.headers ?? {}).filter((h) => h.startsWith('x-dlq'))).toEqual([]);
    const delivered = destination.arrivals.find((a) => a.id === 'rp-1' && a.status === 200);
    expect(delivered?.headers['idempotency-key']).toBe('rp-1');
    expect(delivered?.body).toBe('{"n":1}');
  }, 180_000);

  it('bad input: one line naming the argument, exit 2, nothing moved', async () => {
    const { topic, dlq } = await createTopicPair(admin, uniqueName('replay-bad'), 1);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: [{ value: '{}', headers: { id: 'x', 'x-dlq-reason': 'status' } }],
    });
    await producer.disconnect();
    const env = { KAFKA_TOPIC: topic, DLQ_TOPIC: dlq };
    const cases: [string[], string][] = [
      [['--reason', 'timeout'], 'replay: --reason: unknown reason "timeout"'],
      [['--from', 'last tuesday'], 'replay: --from: not a time, got "last tuesday"'],
      [
        ['--dlq-topic', 'no-such-topic'],
        'replay: --dlq-topic: topic "no-such-topic" does not exist',
      ],
      [['--topic', 'no-such-topic'], 'replay: --topic: topic "no-such-topic" does not exist'],
    ];
    for (const [args, message] of cases) {
      const run = await runReplayCommand(args, env);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
      expect(run.stdout).toBe('');
    }
    expect(await recordCount(admin, topic)).toBe(0);
  }, 180_000);
});
