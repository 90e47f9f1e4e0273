import { type Config, createKafkaClient, type Logger } from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';

/**
 * Ingest's kafkajs client. Connection attempts back off briefly and give up soon, so a producer
 * or a readiness check facing a stopped broker fails within a few seconds (clients get their 503
 * from the ack timeout anyway) and a returning broker is found again quickly.
 */
export function createIngestKafkaClient(config: Pick<Config, 'kafka'>, logger: Logger): Kafka {
  return createKafkaClient({
    kafka: config.kafka,
    role: 'ingest',
    logger,
    overrides: { retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 3 } },
  });
}
