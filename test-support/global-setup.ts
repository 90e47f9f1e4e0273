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

interface SharedBroker {
  started: Promise<RunningBroker>;
  users: number;
}

// vitest calls a global setup once per project that lists it; the projects share this process,
// so the first call starts the broker and the others borrow it. The last teardown stops it.
const SHARED = Symbol.for('kafka-throttle.test-broker');
const registry = globalThis as { [SHARED]?: SharedBroker };

/**
 * Starts one real broker on free ports in a temporary folder for the whole test run, and makes
 * sure it dies with the run: on teardown, and on any exit of this process (Ctrl-C included).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  registry[SHARED] ??= { started: startTestBroker(), users: 0 };
  const shared = registry[SHARED];
  shared.users++;
  const broker = await shared.started;
  project.provide('kafkaBrokers', broker.bootstrap);
  process.env.TEST_KAFKA_BROKERS = broker.bootstrap;

  return async () => {
    shared.users--;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await broker.stop();
  };
}

async function startTestBroker(): Promise<RunningBroker> {
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
  return {
    ...broker,
    async stop() {
      process.off('exit', killOnExit);
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
