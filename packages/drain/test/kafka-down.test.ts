import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { spawnWorker, workerEnv } from './support/worker-process.ts';

/** A port nothing listens on (taken, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a worker started while Kafka is unreachable', () => {
  it('keeps trying, says it is not ready, and still stops cleanly on SIGTERM', async () => {
    const worker = spawnWorker(
      'no-kafka',
      workerEnv({ KAFKA_BROKERS: `127.0.0.1:${await deadPort()}`, KAFKA_TOPIC: 'nowhere' }),
    );
    try {
      const listening = await worker.waitForLog('drain worker listening', 30_000);
      const base = `http://127.0.0.1:${listening.fields.port}`;
      await worker.waitForLog('could not start consuming; retrying', 60_000);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        error: { code: 'not_ready', message: expect.stringMatching(/Kafka unreachable/) },
      });
      // Still there after its first failed attempt: it does not give up.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      worker.terminate();
      expect(await worker.exited).toBe(0);
    } finally {
      worker.signal('SIGKILL');
    }
  });
});
