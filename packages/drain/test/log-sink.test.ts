import { describe, expect, it } from 'vitest';
import { drainTestKafka } from './support/backlog.ts';
import { spawnWorker, workerEnv } from './support/worker-process.ts';

const { backlog } = drainTestKafka('drain-log-test');

describe('pnpm drain with the default log sink', () => {
  it('prints one JSON line per delivery, with the body, in order per partition', async () => {
    const { topic, env: names, produced } = await backlog('log', { count: 8, partitions: 2 });
    const worker = spawnWorker(
      'log',
      workerEnv({ ...names, RATE_MESSAGES: '50', RATE_PERIOD: '1s' }),
    );
    try {
      const deliveredLines = () => worker.lines.filter((l) => l.msg === 'delivered');
      const deadline = Date.now() + 60_000;
      while (deliveredLines().length < produced.length && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      worker.terminate();
      expect(await worker.exited).toBe(0);
      const lines = deliveredLines().map((l) => l.fields);
      expect(lines).toHaveLength(8);
      for (const partition of [0, 1]) {
        const mine = lines.filter((l) => l.partition === partition);
        expect(mine.map((l) => l.id)).toEqual(
          produced.filter((p) => p.partition === partition).map((p) => p.id),
        );
        expect(mine.map((l) => l.offset)).toEqual(['0', '1', '2', '3']);
      }
      expect(lines[0]).toMatchObject({
        topic,
        key: null,
        attempt: 1,
        contentType: 'application/json',
        body: { n: expect.any(Number) },
      });
    } finally {
      worker.signal('SIGKILL');
    }
  });
});
