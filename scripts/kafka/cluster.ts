import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { isAlive, launchBroker, newClusterId, portIsFree, sleep, stopProcess } from './broker.ts';

/**
 * A local multi-node KRaft cluster from the same jars as the single broker: every node is a
 * broker and a controller, the nodes form one controller quorum, and our topics and Kafka's
 * internal ones (consumer offsets, transaction state) get one replica per node with
 * min.insync.replicas one less, so an acks=all write survives one node down.
 * Used by `pnpm kafka:start --brokers 3` and by the tests that kill brokers.
 */

export interface ClusterNodeAddress {
  port: number;
  controllerPort: number;
}

export interface ClusterOptions {
  /** Holds cluster.id and one folder per node (node-1, node-2, …). */
  dir: string;
  nodes: readonly ClusterNodeAddress[];
}

export interface RunningNode {
  id: number;
  bootstrap: string;
  /** undefined while the node is down. */
  pid: number | undefined;
}

export interface RunningCluster {
  /** Every node's address, comma-separated, as KAFKA_BROKERS takes it. */
  bootstrap: string;
  nodes: readonly RunningNode[];
  /** SIGKILL one node (a crash: no controlled shutdown); resolves once the JVM is gone. */
  kill(id: number): Promise<void>;
  /** SIGTERM one node (a controlled shutdown, leadership moved first). */
  stopNode(id: number): Promise<void>;
  /** Starts a stopped node again on its store and waits until it is back in the cluster. */
  restart(id: number): Promise<void>;
  /** Stops every node that runs. */
  stop(): Promise<void>;
}

export interface ClusterLaunch {
  detached?: boolean;
  readyTimeoutMs?: number;
  /** Called with each JVM as it is spawned, so a caller can kill it on any exit. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Starts every node and waits until all of them are registered brokers. */
export async function startCluster(
  options: ClusterOptions,
  launch: ClusterLaunch = {},
): Promise<RunningCluster> {
  await mkdir(options.dir, { recursive: true });
  const clusterId = await sharedClusterId(options.dir);
  const voters = options.nodes.map((n, i) => `${i + 1}@127.0.0.1:${n.controllerPort}`).join(',');
  const nodes: RunningNode[] = options.nodes.map((n, i) => ({
    id: i + 1,
    bootstrap: `127.0.0.1:${n.port}`,
    pid: undefined,
  }));
  const bootstrap = nodes.map((n) => n.bootstrap).join(',');
  const readyTimeoutMs = launch.readyTimeoutMs ?? 180_000;

  const spawnNode = async (id: number): Promise<ChildProcess> => {
    const address = options.nodes[id - 1] as ClusterNodeAddress;
    const child = await launchBroker(
      {
        dir: join(options.dir, `node-${id}`),
        ...address,
        node: { id, voters, clusterId, replicas: options.nodes.length },
      },
      { detached: launch.detached ?? false },
    );
    launch.onSpawn?.(child);
    if (launch.detached) child.unref();
    (nodes[id - 1] as RunningNode).pid = child.pid;
    return child;
  };
  const nodeOf = (id: number): RunningNode => {
    const node = nodes[id - 1];
    if (!node) throw new Error(`the cluster has no node ${id}`);
    return node;
  };
  const halt = async (id: number, graceMs: number | 'crash'): Promise<void> => {
    const node = nodeOf(id);
    if (node.pid !== undefined && graceMs === 'crash') await killProcess(node.pid);
    else if (node.pid !== undefined) await stopProcess(node.pid, graceMs as number);
    node.pid = undefined;
  };

  const cluster: RunningCluster = {
    bootstrap,
    nodes,
    kill: (id) => halt(id, 'crash'),
    stopNode: (id) => halt(id, 60_000),
    async restart(id) {
      if (nodeOf(id).pid !== undefined) throw new Error(`node ${id} is running`);
      // The dead JVM's sockets can linger a moment after it is gone.
      const address = options.nodes[id - 1] as ClusterNodeAddress;
      const deadline = Date.now() + 30_000;
      while (
        Date.now() < deadline &&
        !((await portIsFree(address.port)) && (await portIsFree(address.controllerPort)))
      ) {
        await sleep(250);
      }
      const child = await spawnNode(id);
      let exited: string | undefined;
      child.once('exit', (code, signal) => {
        exited = `node ${id}'s JVM exited (${code ?? signal}) while starting`;
      });
      const startedAt = Date.now();
      await waitForBrokers(bootstrap, [id], readyTimeoutMs, options.dir, () => exited).catch(
        (error: Error) => {
          // A JVM starved of CPU looks like one that hangs: say which it was.
          const cpu = child.pid === undefined ? undefined : cpuSeconds(child.pid);
          const usage =
            cpu === undefined
              ? ''
              : ` (its JVM used ${cpu.toFixed(1)} s of CPU in ${((Date.now() - startedAt) / 1000).toFixed(0)} s)`;
          throw new Error(`${error.message}${usage}\n${logTails(options.dir, nodes)}`);
        },
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => halt(n.id, 30_000)));
    },
  };
  try {
    for (const node of nodes) await spawnNode(node.id);
    await waitForBrokers(
      bootstrap,
      nodes.map((n) => n.id),
      readyTimeoutMs,
      options.dir,
    );
  } catch (error) {
    await Promise.all(nodes.map((n) => halt(n.id, 'crash')));
    throw error;
  }
  return cluster;
}

async function killProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  while (isAlive(pid)) await sleep(20);
}

/** CPU time (user + system) a running process has used, from /proc; undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** The last lines of every node's broker.log, for an error a person can act on. */
function logTails(dir: string, nodes: readonly RunningNode[]): string {
  return nodes
    .map((node) => {
      const file = join(dir, `node-${node.id}`, 'broker.log');
      const lines = existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n') : [];
      return `--- node ${node.id} (${node.pid === undefined ? 'stopped' : `pid ${node.pid}`}):\n${lines.slice(-8).join('\n')}`;
    })
    .join('\n');
}

/** The cluster id every node's store is formatted with; made once, kept in `dir`. */
async function sharedClusterId(dir: string): Promise<string> {
  const file = join(dir, 'cluster.id');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const id = await newClusterId();
  writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * Waits until every node in `ids` is a registered broker that answers; the controller quorum
 * only forms once a majority of the nodes runs, so nothing is ready before that.
 */
export async function waitForBrokers(
  bootstrap: string,
  ids: readonly number[],
  timeoutMs: number,
  dir: string,
  /** Why waiting is pointless (a node's JVM exited), if it is. */
  gaveUp: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: number[] = [];
  let lastError = '';
  for (;;) {
    // Generous timeouts: on a busy 2-core machine a node that is up can still answer slowly.
    const admin = new Kafka({
      clientId: 'kafka-throttle-cluster-probe',
      brokers: bootstrap.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 2, initialRetryTime: 200 },
    }).admin();
    try {
      await admin.connect();
      const described = await admin.describeCluster();
      seen = described.brokers.map((b) => b.nodeId);
      if (described.controller !== null && ids.every((id) => seen.includes(id))) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const reason = gaveUp();
    if (reason !== undefined) throw new Error(`${reason}; see the broker.log files under ${dir}`);
    if (Date.now() > deadline) {
      throw new Error(
        `nodes ${ids.join(', ')} were not all registered after ${timeoutMs} ms (registered: ${seen.join(', ') || 'none seen'}; last error: ${lastError || 'none'}); see the broker.log files under ${dir}`,
      );
    }
    await sleep(500);
  }
}
