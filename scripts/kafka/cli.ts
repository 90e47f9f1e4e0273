import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeOwner } from '../start/broker-owner.ts';
import { fetchJars, isAlive, startBroker, stopProcess } from './broker.ts';
import { startCluster } from './cluster.ts';

/**
 * `pnpm kafka:fetch | kafka:start | kafka:stop | kafka:status`: the developer's own broker on
 * 127.0.0.1:9092 (KAFKA_LOCAL_PORT to change it), its data under .kafka/ so a backlog survives.
 * `kafka:start --brokers 3` starts a three-node cluster instead; `kafka:stop` stops either.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = process.env.KAFKA_LOCAL_DIR ?? join(root, '.kafka');
const pidFile = join(dir, 'broker.pid');
const port = Number(process.env.KAFKA_LOCAL_PORT ?? 9092);
const controllerPort = Number(process.env.KAFKA_LOCAL_CONTROLLER_PORT ?? port + 1);

// `--brokers N` (N > 1): a cluster under .kafka/cluster, node i on port + 2(i - 1) and the next.
const brokersArg = process.argv.indexOf('--brokers');
const brokers = brokersArg > 0 ? Number(process.argv[brokersArg + 1]) : 1;
const clusterDir = join(dir, 'cluster');
const clusterPidFile = join(clusterDir, 'brokers.pid');

function runningPid(file = pidFile): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined;
  // Only a JVM running Kafka counts: a recycled pid must never be signalled.
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmdline.includes('kafka.Kafka') ? pid : undefined;
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      await fetchJars((line) => console.log(line));
      console.log('Kafka jars are in place');
      return;
    case 'start': {
      if (!Number.isInteger(brokers) || brokers < 1) {
        console.error(`--brokers must be a positive integer, got ${process.argv[brokersArg + 1]}`);
        process.exitCode = 2;
        return;
      }
      if (brokers > 1) return startLocalCluster();
      const pid = runningPid();
      if (pid !== undefined) {
        console.log(`Kafka is already running (pid ${pid}) at 127.0.0.1:${port}`);
        return;
      }
      await fetchJars((line) => console.log(line));
      const started = Date.now();
      const broker = await startBroker({ dir, port, controllerPort }, { detached: true });
      writeFileSync(pidFile, String(broker.pid));
      // Started by hand, so no `pnpm start` owns it: every start reuses it and leaves it running.
      removeOwner(dir);
      console.log(
        `Kafka is running (pid ${broker.pid}, ready in ${Date.now() - started} ms) at ${broker.bootstrap}; data in ${dir}`,
      );
      return;
    }
    case 'stop': {
      await stopLocalCluster();
      const pid = runningPid();
      if (pid === undefined) {
        console.log('Kafka is not running');
      } else {
        await stopProcess(pid);
        console.log(`Kafka (pid ${pid}) stopped`);
      }
      rmSync(pidFile, { force: true });
      removeOwner(dir);
      return;
    }
    case 'status': {
      const pid = runningPid();
      console.log(pid === undefined ? 'Kafka is not running' : `Kafka is running (pid ${pid})`);
      process.exitCode = pid === undefined ? 1 : 0;
      return;
    }
    default:
      console.error('usage: tsx scripts/kafka/cli.ts fetch|start|stop|status');
      process.exitCode = 2;
  }
}

function clusterPids(): number[] {
  if (!existsSync(clusterPidFile)) return [];
  const files = readFileSync(clusterPidFile, 'utf8').split('\n').filter(Boolean);
  return files.flatMap((file) => {
    const pid = runningPid(file);
    return pid === undefined ? [] : [pid];
  });
}

async function startLocalCluster(): Promise<void> {
  const pids = clusterPids();
  if (pids.length > 0) {
    console.log(`the Kafka cluster is already running (pids ${pids.join(', ')})`);
    return;
  }
  await fetchJars((line) => console.log(line));
  const started = Date.now();
  const nodes = Array.from({ length: brokers }, (_, i) => ({
    port: port + 2 * i,
    controllerPort: port + 2 * i + 1,
  }));
  const cluster = await startCluster({ dir: clusterDir, nodes }, { detached: true });
  const files = cluster.nodes.map((node) => {
    const file = join(clusterDir, `node-${node.id}`, 'broker.pid');
    writeFileSync(file, String(node.pid));
    return file;
  });
  writeFileSync(clusterPidFile, `${files.join('\n')}\n`);
  console.log(
    `a Kafka cluster of ${brokers} is running (pids ${cluster.nodes.map((n) => n.pid).join(', ')}, ready in ${Date.now() - started} ms); data in ${clusterDir}`,
  );
  console.log(`use it with KAFKA_BROKERS=${cluster.bootstrap} KAFKA_REPLICATION_FACTOR=${brokers}`);
}

async function stopLocalCluster(): Promise<void> {
  const pids = clusterPids();
  if (pids.length === 0) return;
  await Promise.all(pids.map((pid) => stopProcess(pid)));
  console.log(`the Kafka cluster (pids ${pids.join(', ')}) stopped`);
  rmSync(clusterPidFile, { force: true });
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
