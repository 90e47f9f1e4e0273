import { randomUUID } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, inject } from 'vitest';

/** The bootstrap address of the run's throwaway broker (see global-setup.ts). */
export function testBrokers(): string[] {
  return [inject('kafkaBrokers')];
}

/** A topic or group name no other test uses, so tests never see each other's records. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A kafkajs client on the run's broker; quiet, so a test's output is its own. */
export function testKafka(clientId?: string): Kafka {
  return new Kafka({
    ...(clientId === undefined ? {} : { clientId }),
    brokers: testBrokers(),
    logLevel: logLevel.NOTHING,
  });
}

/**
 * A client on the run's broker and its admin, connected before the calling file's tests and
 * disconnected after them. Call it at the top level of a test file.
 */
export function testKafkaWithAdmin(clientId: string): { kafka: Kafka; admin: Admin } {
  const kafka = testKafka(clientId);
  const admin = kafka.admin();
  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());
  return { kafka, admin };
}
