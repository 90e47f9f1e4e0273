import type { Logger } from '@kafka-throttle/common';
import type { Admin, ConfigResourceTypes } from 'kafkajs';

// kafkajs' enum value for a topic; the enum itself is not importable from ESM (kafkajs is CJS).
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/**
 * Room kept in Kafka's limit for the record batch header (61 bytes) and whatever our estimate of
 * a record's framing misses, so a batch within the limit by our count is within it by Kafka's.
 */
export const BATCH_OVERHEAD_BYTES = 100;

/**
 * The largest record Kafka takes for our topic (`max.message.bytes`, which defaults to the
 * broker's `message.max.bytes`). Learnt each time Kafka is checked, since the topic may not
 * exist, or Kafka may not be up, when ingest starts. Until then there is no limit beyond
 * `ingest.maxBodyBytes`.
 */
export interface RecordSizeLimit {
  /** Most bytes one produce request may carry; Infinity until Kafka was asked. */
  readonly maxRecordBytes: number;
  /** Reads the topic's limit from Kafka and warns if `ingest.maxBodyBytes` is above it. */
  learn(admin: Admin): Promise<void>;
}

export function createRecordSizeLimit(options: {
  topic: string;
  maxBodyBytes: number;
  logger: Logger;
}): RecordSizeLimit {
  const { topic, maxBodyBytes } = options;
  const log = options.logger.child({ component: 'record-size' });
  let maxRecordBytes = Number.POSITIVE_INFINITY;
  return {
    get maxRecordBytes() {
      return maxRecordBytes;
    },
    async learn(admin) {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['max.message.bytes'] }],
      });
      const entry = resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
      const kafkaMax = Number(entry?.configValue);
      if (!Number.isSafeInteger(kafkaMax) || kafkaMax <= BATCH_OVERHEAD_BYTES) return;
      const next = kafkaMax - BATCH_OVERHEAD_BYTES;
      if (next === maxRecordBytes) return;
      maxRecordBytes = next;
      if (maxBodyBytes > next) {
        log.warn(
          { topic, maxMessageBytes: kafkaMax, maxBodyBytes, effectiveLimit: next },
          `ingest.maxBodyBytes (${maxBodyBytes}) is more than Kafka takes for topic ${topic} (max.message.bytes ${kafkaMax}): larger records get 413`,
        );
      }
    },
  };
}
