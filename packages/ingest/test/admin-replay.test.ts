import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testBrokers, testKafkaWithAdmin } from '../../../test-support/kafka.ts';
// The fixtures of drain's `pnpm replay` test: the same dead letter, made the same way.
import { topicWithBacklog } from '../../drain/test/support/backlog.ts';
import { type Reply, startDestination } from '../../drain/test/support/destination.ts';
import { inProcessWorker } from '../../drain/test/support/in-process.ts';
import { recordCount } from '../../drain/test/support/topics.ts';
import { waitFor } from '../../drain/test/support/wait.ts';
import { type RunningIngest, startIngest } from './support/service-harness.ts';

const TOKEN = `replay-${randomUUID()}`;
const { kafka, admin } = testKafkaWithAdmin('admin-replay-test');

interface Answer {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
}

function replayCall(adminUrl: string, body: string): Promise<Answer> {
  return fetch(`${adminUrl}/replay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(60_000),
  }).then(async (response) => ({
    status: response.status,
    json: (await response.json()) as Answer['json'],
  }));
}

describe('POST /replay on the admin API', () => {
  it('refuses bad bodies, counts in a dry run, then moves a dead letter that is delivered once', async () => {
    const { topic, dlq, env } = await topicWithBacklog(kafka, admin, 'admin-replay', {
      count: 4,
      partitions: 2,
      prefix: 'ar',
    });
    let healed = false;
    const destination = await startDestination(
      (arrival): Reply =>
        arrival.id === 'ar-1' && !healed ? { status: 422, body: 'bad' } : { status: 200 },
    );
    const { worker } = inProcessWorker({
      ...env,
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
    });
    let ingest: RunningIngest | undefined;
    await worker.start();
    try {
      ingest = await startIngest({
        ...env,
        KAFKA_BROKERS: testBrokers().join(','),
        KAFKA_PARTITIONS: '2',
        ADMIN_TOKEN: TOKEN,
        ADMIN_PORT: '0',
      });
      const adminUrl = `http://127.0.0.1:${ingest.service.adminPort}`;
      await waitFor(async () => (await recordCount(admin, dlq)) === 1, 30_000, 'ar-1 dead');
      await destination.until((a) => a.filter((x) => x.status === 200).length === 3, 30_000);
      healed = true;

      const bad: [string, number, string][] = [
        ['{"reasons":["timeout"]}', 400, 'invalid_reasons'],
        ['{"reasons":"status"}', 400, 'invalid_reasons'],
        ['{"from":"yesterday"}', 400, 'invalid_from'],
        ['{"to":"2026-13-45T99:00"}', 400, 'invalid_to'],
        ['{"from":"2026-12-02","to":"2026-12-01"}', 400, 'invalid_to'],
        ['{"ids":[" "]}', 400, 'invalid_ids'],
        ['{"ids":[]}', 400, 'invalid_ids'],
        ['{"dryRun":"yes"}', 400, 'invalid_dry_run'],
        ['{"colour":"red"}', 400, 'unknown_field'],
        ['["status"]', 400, 'bad_request'],
        ['{"dryRun":', 400, 'invalid_json'],
      ];
      for (const [body, status, code] of bad) {
        const answer = await replayCall(adminUrl, body);
        expect({ body, status: answer.status, code: answer.json.error?.code }).toEqual({
          body,
          status,
          code,
        });
      }
      // Nothing moved, and no progress was kept that would hide the dead letter from a real run.
      expect(await recordCount(admin, topic)).toBe(4);

      const dry = await replayCall(adminUrl, '{"dryRun":true,"reasons":["status"]}');
      expect(dry.status).toBe(200);
      expect(dry.json).toMatchObject({ dryRun: true, moved: 1, filtered: 0, malformed: 0 });
      expect(await recordCount(admin, topic)).toBe(4);

      // Two at once: one runs, the other is told to wait.
      const both = await Promise.all([
        replayCall(adminUrl, '{"reasons":["status"]}'),
        replayCall(adminUrl, '{"reasons":["status"]}'),
      ]);
      const ran = both.find((a) => a.status === 200);
      const refused = both.find((a) => a.status !== 200);
      expect(ran?.json).toMatchObject({ dryRun: false, moved: 1 });
      expect([refused?.status, refused?.json.error?.code]).toEqual([409, 'replay_running']);
      expect(await recordCount(admin, topic)).toBe(5);

      const again = await replayCall(adminUrl, '{"reasons":["status"]}');
      expect(again.json).toMatchObject({ moved: 0 });

      await destination.until((a) => a.some((x) => x.id === 'ar-1' && x.status === 200), 30_000);
      // Time for a doubled replay to show up, if there were one.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      await ingest?.service.stop();
      await worker.stop();
      await destination.close();
    }
    expect(destination.arrivals.filter((a) => a.id === 'ar-1').map((a) => a.status)).toEqual([
      422, 200,
    ]);
    const delivered = destination.arrivals.find((a) => a.id === 'ar-1' && a.status === 200);
    expect(delivered?.headers['idempotency-key']).toBe('ar-1');
    expect(delivered?.body).toBe('{"n":1}');
    expect(await recordCount(admin, topic)).toBe(5);
  }, 180_000);
});
