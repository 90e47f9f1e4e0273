import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { post } from './support/client.ts';
import { killAllScripts, repoRoot, runScript, type ScriptProcess } from './support/processes.ts';
import { serviceListening } from './support/services.ts';
import { waitUntil } from './support/wait.ts';

const run = promisify(execFile);

afterAll(killAllScripts);

/**
 * What the Docker image runs: `pnpm build`'s JavaScript, started by plain node with the
 * "compiled" condition (the image's entrypoint), no tsx. Here against the test broker.
 */
function startCompiled(service: 'ingest' | 'drain', env: Record<string, string>): ScriptProcess {
  return runScript(
    `compiled ${service}`,
    'exec',
    ['node', '--conditions=compiled', `packages/${service}/dist/main.js`],
    // NODE_OPTIONS could carry a loader from the test runner; the image has none.
    { ...env, NODE_OPTIONS: undefined, LOG_LEVEL: 'info' },
  );
}

describe('the compiled services (pnpm build, then node)', () => {
  beforeAll(async () => {
    await run('pnpm', ['--silent', 'build'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  }, 180_000);

  it('builds a main.js for each service', () => {
    for (const service of ['ingest', 'drain']) {
      expect(existsSync(join(repoRoot, `packages/${service}/dist/main.js`))).toBe(true);
    }
  });

  it('accept a request and deliver it, with node and no TypeScript loader', async () => {
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-compiled'),
      KAFKA_PARTITIONS: '2',
      DRAIN_GROUP: uniqueName('e2e-compiled-group'),
      INGEST_HOST: '127.0.0.1',
      INGEST_PORT: '0',
      DRAIN_HOST: '127.0.0.1',
      DRAIN_PORT: '0',
      SINK: 'log',
    };
    const ingest = startCompiled('ingest', env);
    const drain = startCompiled('drain', env);
    const ingestListening = await ingest.waitForEntry('its "listening" line', serviceListening);
    const drainListening = await drain.waitForEntry('its "listening" line', serviceListening);
    const port = Number(ingestListening.port);

    const url = `http://127.0.0.1:${port}/`;
    let answer = await post(url, { compiled: true });
    // Ready means the topic exists; until then ingest answers 503 and the client retries.
    await waitUntil(
      'ingest answers 202',
      async () => {
        if (answer.kind === 'answer' && answer.status === 202) return true;
        answer = await post(url, { compiled: true });
        return answer.kind === 'answer' && answer.status === 202;
      },
      60_000,
      500,
    );
    const id = answer.kind === 'answer' ? answer.id : undefined;
    expect(id).toBeTypeOf('string');

    const delivered = await drain.waitForEntry(
      `the delivery of ${id} in its log`,
      (entry) => entry.msg === 'delivered' && entry.id === id,
      60_000,
    );
    expect(JSON.stringify(delivered.body)).toContain('compiled');

    // SIGTERM to the services themselves (not pnpm), as an orchestrator would.
    const [ingestExit, drainExit] = await Promise.all([
      ingest.signal('SIGTERM', Number(ingestListening.pid)),
      drain.signal('SIGTERM', Number(drainListening.pid)),
    ]);
    expect(ingestExit.code).toBe(0);
    expect(drainExit.code).toBe(0);
  }, 180_000);
});
