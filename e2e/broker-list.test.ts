import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { acceptedIds, post } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { postBacklog } from './support/load.ts';
import { killAllScripts, runScript } from './support/processes.ts';
import { serviceListening, startService } from './support/services.ts';
import { waitUntil } from './support/wait.ts';

/** A port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const warnsAbout =
  (broker: string) =>
  (entry: Record<string, unknown>): boolean =>
    entry.broker === broker && String(entry.msg).includes('unreachable');

afterAll(async () => {
  await killAllScripts();
});

describe('KAFKA_BROKERS with addresses that do not work', () => {
  it('works on the good address and names each bad one', async () => {
    const down = `127.0.0.1:${await deadPort()}`;
    const unknown = 'no-such-broker.invalid:9092';
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: [down, ...testBrokers(), unknown].join(','),
      KAFKA_TOPIC: uniqueName('e2e-broker-list'),
      KAFKA_PARTITIONS: '2',
      DRAIN_GROUP: uniqueName('e2e-broker-list-group'),
      RATE_MESSAGES: '50',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const drain = await startService('drain', env);
    for (const service of [ingest, drain]) {
      for (const bad of [down, unknown])
        await service.waitForEntry(`a warning naming ${bad}`, warnsAbout(bad));
      expect(service.entries.some(warnsAbout(testBrokers()[0] as string))).toBe(false);
    }

    const answers = await postBacklog(`http://127.0.0.1:${ingest.port}/`, 20);
    const accepted = acceptedIds(answers);
    expect(accepted).toHaveLength(20);
    await waitForDeliveries(
      'all 20 delivered',
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      [ingest, drain],
      90_000,
    );
    console.log(
      `broker list with ${down} (down) and ${unknown} (no such host): 20 accepted, ${destination.ids().size} delivered`,
    );
    expect((await drain.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 240_000);

  it('with every address wrong, answers 503 and is not ready, as with one wrong address', async () => {
    const bad = [`127.0.0.1:${await deadPort()}`, `127.0.0.1:${await deadPort()}`];
    const env = {
      KAFKA_BROKERS: bad.join(','),
      KAFKA_TOPIC: uniqueName('e2e-broker-list-none'),
      LOG_LEVEL: 'info',
      INGEST_PORT: '0',
      DRAIN_PORT: '0',
      INGEST_ACK_TIMEOUT: '2s',
    };
    const ingest = runScript('ingest', 'ingest', [], env);
    const drain = runScript('drain', 'drain', [], env);
    const listening = serviceListening;
    const ingestPort = Number((await ingest.waitForEntry('listening', listening, 90_000)).port);
    const drainPort = Number((await drain.waitForEntry('listening', listening, 90_000)).port);
    for (const service of [ingest, drain]) {
      for (const address of bad)
        await service.waitForEntry(`a warning naming ${address}`, warnsAbout(address));
    }
    for (const port of [ingestPort, drainPort]) {
      // Give each a few attempts: it must stay not ready and keep running.
      await waitUntil(
        `port ${port} says not ready`,
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503,
        30_000,
        500,
      );
    }
    const answer = await post(`http://127.0.0.1:${ingestPort}/`, { number: 1 });
    expect(answer).toMatchObject({
      kind: 'answer',
      status: 503,
      body: { error: { code: 'kafka_unavailable' } },
    });
    expect(ingest.exit).toBeUndefined();
    expect(drain.exit).toBeUndefined();
    const ingestPid = Number(ingest.entries.find(listening)?.pid);
    const drainPid = Number(drain.entries.find(listening)?.pid);
    expect((await drain.signal('SIGTERM', drainPid)).code).toBe(0);
    expect((await ingest.signal('SIGTERM', ingestPid)).code).toBe(0);
  }, 240_000);
});
