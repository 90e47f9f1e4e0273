import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, type RunningBroker, startBroker } from '../scripts/kafka/broker.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

/**
 * Starts one real broker on free ports in a temporary folder for the whole test run, and makes
 * sure it dies with the run: on teardown, and on any exit of this process (Ctrl-C included).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-test-'));
  const started = Date.now();
  const broker: RunningBroker = await startBroker({
    dir,
    port: await freePort(),
    controllerPort: await freePort(),
  });
  console.log(`test broker ready at ${broker.bootstrap} in ${Date.now() - started} ms (${dir})`);

  const killOnExit = (): void => {
    try {
      process.kill(broker.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  project.provide('kafkaBrokers', broker.bootstrap);
  process.env.TEST_KAFKA_BROKERS = broker.bootstrap;

  return async () => {
    process.off('exit', killOnExit);
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
