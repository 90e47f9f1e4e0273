import {
  type Config,
  configuredTopics,
  ensureTopics,
  retryWithBackoff,
  systemClock,
} from '@kafka-throttle/common';
import { Kafka, logLevel } from 'kafkajs';

/**
 * Brings a cluster to the state the services expect before they start: the request and
 * dead-letter topics exist with leaders, and the consumer group's coordinator answers. On a
 * fresh broker both take a few seconds (topic metadata spreading, __consumer_offsets being
 * created and loaded); services started meanwhile only meet retries, which they rightly log as
 * warnings, and drain's consumer is refused ("The coordinator is loading"), crashes and restarts.
 * Settling first keeps a healthy start free of all that. Resolves false after `timeoutMs`; the
 * services then start anyway and report whatever is wrong in their own words.
 */
export async function settleKafka(
  brokers: string,
  config: Pick<Config, 'kafka' | 'dlq' | 'drain'>,
  signal: AbortSignal,
  timeoutMs = 60_000,
): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'kafka-throttle-start',
    brokers: brokers.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  try {
    await retryWithBackoff(
      async () => {
        await admin.connect();
        await ensureTopics(admin, configuredTopics(config));
        // Throws while the group coordinator is not available or still loading.
        await admin.describeGroups([config.drain.group]);
      },
      { clock: systemClock, initialMs: 100, maxMs: 1000, signal: deadline },
    );
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
