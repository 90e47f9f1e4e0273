import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogHint, kafkaLogLevel } from './kafka-log.ts';

const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => ({
  level,
  log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
});

describe('kafkaLogLevel', () => {
  it.each([
    [
      'Response InitProducerId(key: 22, version: 1)',
      "The coordinator is loading and hence can't process requests for this group",
    ],
    ['Response GroupCoordinator(key: 10, version: 2)', 'The group coordinator is not available'],
    ['Response CreateTopics(key: 19, version: 3)', 'Topic creation errors'],
    ['Response Metadata(key: 3, version: 6)', 'This server does not host this topic-partition'],
  ])('puts the transient broker answer %s: %s at debug', (message, error) => {
    expect(kafkaLogLevel(entry(logLevel.ERROR, message, { error }))).toBe('debug');
  });

  it('puts the partitioner and idempotent-retries notices at debug', () => {
    expect(
      kafkaLogLevel(
        entry(logLevel.WARN, 'KafkaJS v2.0.0 switched default partitioner. To retain…'),
      ),
    ).toBe('debug');
    expect(
      kafkaLogLevel(
        entry(
          logLevel.WARN,
          'Limiting retries for the idempotent producer may invalidate EoS guarantees',
        ),
      ),
    ).toBe('debug');
  });

  it('keeps other errors and warnings at their level', () => {
    expect(
      kafkaLogLevel(
        entry(logLevel.ERROR, 'Response Produce(key: 0)', { error: 'Broker: message too large' }),
      ),
    ).toBe('error');
    expect(kafkaLogLevel(entry(logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded'))).toBe(
      'error',
    );
    expect(kafkaLogLevel(entry(logLevel.WARN, 'Response without match'))).toBe('warn');
  });

  it("leaves kafkajs's own narration at debug: the info lines are ours", () => {
    expect(kafkaLogLevel(entry(logLevel.INFO, 'Consumer has joined the group'))).toBe('debug');
    expect(kafkaLogLevel(entry(logLevel.INFO, 'Stopped'))).toBe('debug');
  });
});

describe('kafkaLogHint', () => {
  it('says what to do when Kafka cannot be reached', () => {
    const hint = kafkaLogHint(
      entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      ['127.0.0.1:9092'],
    );
    expect(hint).toContain('127.0.0.1:9092');
    expect(hint).toContain('KAFKA_BROKERS');
  });

  it('has nothing to add to other messages', () => {
    expect(kafkaLogHint(entry(logLevel.ERROR, 'Crash: boom'), ['b:1'])).toBeUndefined();
  });
});
