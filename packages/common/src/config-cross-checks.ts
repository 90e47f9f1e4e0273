import type { Config } from './config.ts';
import { type ConfigKey, configSchema, TOPIC } from './config-schema.ts';
import { sinkAuthProblems } from './sink-auth.ts';

/** Problems no single key shows: values that are valid alone but not together. */
export function crossKeyProblems(config: Config, get: (key: ConfigKey) => unknown): string[] {
  const problems: string[] = [];
  const burst = get('rate.burst');
  if (burst !== null && config.rate.burst > config.rate.messages) {
    problems.push(
      `rate.burst: must be ${configSchema['rate.burst'].expected} (${config.rate.messages}), got ${JSON.stringify(burst)}`,
    );
  }
  if (config.sink.type === 'http' && config.sink.url === undefined) {
    problems.push(
      `sink.url: must be ${configSchema['sink.url'].expected} when sink.type is "http", got nothing`,
    );
  }
  if (get('dlq.topic') === null && !TOPIC.test(config.dlq.topic)) {
    problems.push(
      `kafka.topic: must leave room for its dead-letter topic "${config.dlq.topic}" (at most 249 characters), got ${JSON.stringify(config.kafka.topic)}`,
    );
  }
  problems.push(...sinkAuthProblems(config.sink));
  if (config.dlq.topic === config.kafka.topic) {
    problems.push(
      `dlq.topic: must differ from kafka.topic, got ${JSON.stringify(config.dlq.topic)}`,
    );
  }
  if (config.rate.margin >= config.rate.period) {
    problems.push(
      `rate.margin: must be shorter than rate.period (${config.rate.period}ms), got ${config.rate.margin}`,
    );
  }
  if (config.ingest.headersTimeout > config.ingest.requestTimeout) {
    problems.push(
      `ingest.headersTimeout: must not exceed ingest.requestTimeout (${config.ingest.requestTimeout}ms), got ${config.ingest.headersTimeout}`,
    );
  }
  if (config.sink.backoffMax < config.sink.backoffBase) {
    problems.push(
      `sink.backoffMax: must be at least sink.backoffBase (${config.sink.backoffBase}ms), got ${config.sink.backoffMax}`,
    );
  }
  return problems;
}
