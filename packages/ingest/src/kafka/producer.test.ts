import { createLogger, systemClock } from '@kafka-throttle/common';
import type { Kafka, ProducerConfig, ProducerRecord, RecordMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../errors.ts';
import { createKafkaProducer, placements } from './producer.ts';

describe('placements', () => {
  it("gives each record its partition's base offset plus its rank within the partition", () => {
    const messages = [
      { value: 'a', partition: 2 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 2 },
      { value: 'd', partition: 2 },
      { value: 'e', partition: 0 },
    ];
    const metadata = [
      { topicName: 't', partition: 0, errorCode: 0, baseOffset: '9007199254740993' },
      { topicName: 't', partition: 2, errorCode: 0, baseOffset: '40' },
    ];
    expect(placements(messages, metadata, 't')).toEqual([
      { partition: 2, offset: '40' },
      { partition: 0, offset: '9007199254740993' },
      { partition: 2, offset: '41' },
      { partition: 2, offset: '42' },
      { partition: 0, offset: '9007199254740994' },
    ]);
  });

  it('refuses to place a record whose partition Kafka did not report', () => {
    const metadata = [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '1' }];
    expect(() => placements([{ value: 'a', partition: 1 }], metadata, 't')).toThrow(IngestError);
    expect(() => placements([{ value: 'a' }], metadata, 't')).toThrow(IngestError);
  });
});

describe('the producer', () => {
  /** A kafkajs client stand-in that records how producers are made and what they are sent. */
  function recordingKafka() {
    const made: ProducerConfig[] = [];
    const sent: ProducerRecord[] = [];
    const kafka = {
      producer(config: ProducerConfig) {
        made.push(config);
        return {
          connect: async () => {},
          disconnect: async () => {},
          async send(record: ProducerRecord): Promise<RecordMetadata[]> {
            sent.push(record);
            return [{ topicName: record.topic, partition: 0, errorCode: 0, baseOffset: '7' }];
          },
        };
      },
    } as unknown as Kafka;
    return { kafka, made, sent };
  }

  it('is idempotent with one request in flight, and waits for every in-sync replica (acks -1)', async () => {
    const { kafka, made, sent } = recordingKafka();
    const producer = createKafkaProducer({
      kafka,
      topic: 'requests',
      ackTimeout: 5000,
      logger: createLogger({ level: 'silent', name: 'test' }),
      clock: systemClock,
    });
    const placed = await producer.send(
      [{ value: '{}', partition: 0 }],
      new AbortController().signal,
    );
    expect(placed).toEqual([{ partition: 0, offset: '7' }]);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ idempotent: true, maxInFlightRequests: 1 });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: 'requests', acks: -1, timeout: 5000 });
    await producer.disconnect();
  });
});
