import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../scripts/kafka/broker.ts';
import { type RunningCluster, startCluster } from '../scripts/kafka/cluster.ts';

export interface TestCluster extends RunningCluster {
  /** Stops every node and removes the temporary folder. */
  close(): Promise<void>;
}

/**
 * A three-node cluster on free ports in a temporary folder, for the tests that kill brokers (the
 * run's shared broker from global-setup.ts must never be stopped). Every JVM it ever spawned,
 * restarts included, is killed when this process exits, however it exits.
 */
export async function startTestCluster(size = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-cluster-'));
  const spawned = new Set<ChildProcess>();
  const killAll = (): void => {
    for (const child of spawned) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    if (!process.env.CLUSTER_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);
  const nodes = [];
  for (let i = 0; i < size; i++) {
    nodes.push({ port: await freePort(), controllerPort: await freePort() });
  }
  const started = Date.now();
  let cluster: RunningCluster;
  try {
    cluster = await startCluster(
      { dir, nodes },
      { onSpawn: (child) => spawned.add(child), readyTimeoutMs: 240_000 },
    );
  } catch (error) {
    killAll();
    process.off('exit', killAll);
    throw error;
  }
  console.log(
    `test cluster of ${size} ready at ${cluster.bootstrap} in ${Date.now() - started} ms`,
  );
  return Object.assign(cluster, {
    async close() {
      await cluster.stop();
      killAll();
      process.off('exit', killAll);
      if (!process.env.CLUSTER_KEEP) await rm(dir, { recursive: true, force: true });
      else console.log(`cluster dir kept: ${dir}`);
    },
  });
}
