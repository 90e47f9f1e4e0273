import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type AppServer, startAppServer } from './app-server.ts';
import { RawClient } from './raw-http.ts';

export const JSON_TYPE = { 'content-type': 'application/json' };

/** The app on a real HTTP server with a fake producer, and the checks its tests share. */
export interface AppUnderTest {
  /** Set before the first test of the file. */
  readonly server: AppServer;
  post(
    body: string | Uint8Array,
    headers?: Record<string, string>,
    path?: string,
  ): Promise<Response>;
  /** The JSON error answer a client gets, with no stack trace in it. */
  expectError(
    response: Response,
    status: number,
    code: string,
  ): Promise<{ code: string; message: string }>;
  /** Bad input writes nothing to Kafka and leaves ingest answering. */
  expectNothingWrittenAndStillServing(): Promise<void>;
  /** Opens a raw connection and writes `head` and `body` as they are. */
  rawRequest(head: string, body?: string | Buffer): Promise<RawClient>;
  metricText(): Promise<string>;
  waitFor(condition: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
}

/**
 * Starts one app server for the test file (vitest hooks) and resets its fakes after each test,
 * so each test starts from an acking producer, ready topics and a running service.
 */
export function useAppServer(options: { maxBodyBytes: number; ackTimeout: number }): AppUnderTest {
  let current: AppServer | undefined;
  const server = (): AppServer => {
    if (current === undefined) throw new Error('the app server is not started yet');
    return current;
  };
  beforeAll(async () => {
    current = await startAppServer(options);
  });
  afterAll(() => current?.close());
  afterEach(() => {
    const s = server();
    s.producer.behaviour = 'ack';
    s.producer.batches.length = 0;
    s.producer.abortedSends.length = 0;
    s.readiness.topicsReady = true;
    s.readiness.state = { ready: true };
    s.stopping.value = false;
  });

  const post: AppUnderTest['post'] = (body, headers = JSON_TYPE, path = '/') =>
    fetch(`${server().url}${path}`, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });

  return {
    get server() {
      return server();
    },
    post,
    async expectError(response, status, code) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/json');
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
      return body.error;
    },
    async expectNothingWrittenAndStillServing() {
      expect(server().producer.records).toHaveLength(0);
      const response = await post('{"still":"up"}');
      expect(response.status).toBe(202);
      expect(server().producer.records).toHaveLength(1);
    },
    async rawRequest(head, body = '') {
      const client = await RawClient.open(server().port);
      await client.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
      return client;
    },
    metricText: () => server().metrics.registry.metrics(),
    async waitFor(condition, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error('condition not met in time');
        await sleep(10);
      }
    },
  };
}
