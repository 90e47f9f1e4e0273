import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { type Answer, post } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { killAllScripts } from './support/processes.ts';
import { startService } from './support/services.ts';

afterAll(killAllScripts);

const KEYS = 8;
const PER_KEY = 15;

describe('X-Throttle-Key end to end', () => {
  it('keeps each key in order through ingest, two workers and one of them crashing', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-keys'),
      KAFKA_PARTITIONS: '4',
      DRAIN_GROUP: uniqueName('e2e-keys-group'),
      RATE_MESSAGES: '30',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const url = `http://127.0.0.1:${ingest.port}/`;
    const crashing = await startService('drain', env, 'drain-crashing');
    const steady = await startService('drain', env, 'drain-steady');

    // Each key's client sends its next request once the previous one was accepted, as a
    // client that cares about order must; the keys go at once, so their records interleave.
    const answers = new Map<string, Answer[]>();
    const sendKey = async (key: string): Promise<void> => {
      const mine: Answer[] = [];
      answers.set(key, mine);
      for (let seq = 1; seq <= PER_KEY; seq++) {
        mine.push(await post(url, { key, seq }, 20_000, { 'x-throttle-key': key }));
      }
    };
    const keys = Array.from({ length: KEYS }, (_, i) => `customer-${i}`);
    await Promise.all(keys.map(sendKey));
    const accepted = [...answers.values()].flat();
    expect(accepted.every((a) => a.kind === 'answer' && a.status === 202)).toBe(true);

    // A crash in the middle: the survivor takes the partitions over from the committed offsets.
    await waitForDeliveries(
      'a third delivered',
      destination,
      () => destination.ids().size >= (KEYS * PER_KEY) / 3,
      [ingest, crashing, steady],
      60_000,
    );
    await crashing.kill();
    await waitForDeliveries(
      `all ${KEYS * PER_KEY} delivered`,
      destination,
      () => destination.ids().size >= KEYS * PER_KEY,
      [ingest, steady],
      120_000,
    );

    const firstArrivals = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const arrival of destination.arrivals) {
      if (seen.has(arrival.id)) continue;
      seen.add(arrival.id);
      const { key, seq } = JSON.parse(arrival.body) as { key: string; seq: number };
      firstArrivals.set(key, [...(firstArrivals.get(key) ?? []), seq]);
    }
    console.log(
      `order per key: ${KEYS} keys x ${PER_KEY}, ${destination.arrivals.length} arrivals, ${destination.duplicates()} redelivered after the crash`,
    );
    const inOrder = Array.from({ length: PER_KEY }, (_, i) => i + 1);
    for (const key of keys) expect(firstArrivals.get(key), key).toEqual(inOrder);

    expect((await steady.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 240_000);
});
