import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

/**
 * A single-node Apache Kafka (KRaft, broker and controller in one JVM) run from the official
 * jars on Maven Central. Used by `pnpm kafka:start`, `pnpm start` and the tests' global setup.
 */

const run = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
export const jarsDir = join(here, '.jars');
const pomFile = join(here, 'pom.xml');

export interface BrokerOptions {
  /** Holds the KRaft store, the server properties and broker.log; created when missing. */
  dir: string;
  port: number;
  controllerPort: number;
  /** For a node of a cluster (see cluster.ts); a single broker is node 1 of a quorum of one. */
  node?: ClusterNode;
}

/** What makes a broker one node of a multi-node KRaft cluster. */
export interface ClusterNode {
  id: number;
  /** `controller.quorum.voters`: every node's `id@host:controllerPort`. */
  voters: string;
  /** Shared by every node's store; formatting with different ids would make separate clusters. */
  clusterId: string;
  /** Replication of our topics and Kafka's internal ones; min.insync.replicas is one less. */
  replicas: number;
}

export interface RunningBroker {
  bootstrap: string;
  pid: number;
  /** Stops the broker and resolves once the JVM is gone. */
  stop(): Promise<void>;
}

/** Downloads the broker's jars with Maven unless they are already there. */
export async function fetchJars(log: (line: string) => void = () => {}): Promise<void> {
  if (jarsPresent()) return;
  log(`fetching Apache Kafka ${kafkaVersion()} jars with Maven into ${jarsDir}`);
  await run(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pomFile,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${jarsDir}`,
      '-DincludeScope=runtime',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(
      `mvn could not fetch the Kafka jars (is Maven installed?): ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  });
  if (!jarsPresent()) throw new Error(`mvn ran but ${jarsDir} has no kafka_2.13 jar`);
}

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pomFile, 'utf8'));
  if (!match?.[1]) throw new Error(`no <kafka.version> in ${pomFile}`);
  return match[1];
}

function jarsPresent(): boolean {
  const version = kafkaVersion();
  return existsSync(jarsDir) && readdirSync(jarsDir).includes(`kafka_2.13-${version}.jar`);
}

/** Formats the store (first time only), starts the JVM and waits until a topic can be created. */
export async function startBroker(
  options: BrokerOptions,
  launch: { detached?: boolean; readyTimeoutMs?: number } = {},
): Promise<RunningBroker> {
  const child = await launchBroker(options, launch);
  const bootstrap = `127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(bootstrap, child, options.dir, launch.readyTimeoutMs ?? 90_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  if (launch.detached) child.unref();
  const pid = child.pid as number;
  return { bootstrap, pid, stop: () => stopProcess(pid) };
}

/**
 * Formats the store (first time only) and spawns the JVM without waiting for it: a node of a
 * cluster cannot be ready before a majority of the controller quorum runs.
 */
export async function launchBroker(
  options: BrokerOptions,
  launch: { detached?: boolean } = {},
): Promise<ChildProcess> {
  await fetchJars();
  await mkdir(options.dir, { recursive: true });
  for (const port of [options.port, options.controllerPort]) {
    if (!(await portIsFree(port))) {
      throw new Error(`port ${port} on 127.0.0.1 is taken; stop what uses it or choose another`);
    }
  }
  const properties = writeConfigFiles(options);
  await formatStorage(options.dir, properties, options.node?.clusterId);

  const log = openSync(join(options.dir, 'broker.log'), 'a');
  const jit = options.node ? CLUSTER_NODE_JIT : [];
  return spawn(javaCommand(), [...jvmArgs(options.dir), ...jit, 'kafka.Kafka', properties], {
    detached: launch.detached ?? false,
    stdio: ['ignore', log, log],
  });
}

/** SIGTERM (Kafka shuts down cleanly), then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 30_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie child still answers signal 0; /proc tells it is gone.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** A port the OS says is free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function writeConfigFiles(options: BrokerOptions): string {
  const { dir, port, controllerPort } = options;
  const node = options.node;
  const replicas = node?.replicas ?? 1;
  // With one replica there is nothing to wait for; with more, an ack needs all but one in sync.
  const minIsr = Math.max(1, replicas - 1);
  const properties = join(dir, 'server.properties');
  // Tuned for a 2-core laptop or CI box: few internal partitions, no join delay.
  const lines = [
    'process.roles=broker,controller',
    `node.id=${node?.id ?? 1}`,
    `controller.quorum.voters=${node?.voters ?? `1@127.0.0.1:${controllerPort}`}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=3',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=3',
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.retention.hours=168',
    '',
  ];
  writeFileSync(properties, lines.join('\n'));
  writeFileSync(
    join(dir, 'log4j2.properties'),
    [
      'appender.out.type=Console',
      'appender.out.name=OUT',
      'appender.out.layout.type=PatternLayout',
      'appender.out.layout.pattern=[%d] %p %m (%c)%n',
      'rootLogger.level=WARN',
      'rootLogger.appenderRef.out.ref=OUT',
      'logger.server.name=kafka.server.KafkaRaftServer',
      'logger.server.level=INFO',
      '',
    ].join('\n'),
  );
  return properties;
}

/** A fresh KRaft cluster id, as `kafka-storage.sh random-uuid` makes it. */
export async function newClusterId(): Promise<string> {
  await fetchJars();
  const { stdout } = await run(javaCommand(), [
    '-cp',
    join(jarsDir, '*'),
    'kafka.tools.StorageTool',
    'random-uuid',
  ]);
  return stdout.trim();
}

async function formatStorage(dir: string, properties: string, givenId?: string): Promise<void> {
  if (existsSync(join(dir, 'data', 'meta.properties'))) return;
  const clusterId = givenId ?? (await newClusterId());
  await run(javaCommand(), [
    ...jvmArgs(dir),
    'kafka.tools.StorageTool',
    'format',
    '--ignore-formatted',
    '-t',
    clusterId.trim(),
    '-c',
    properties,
  ]);
}

function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * A cluster is three JVMs, and a node restarted while the other two take load has to start on
 * what CPU is left: on a shared two-core machine a restarted node took 149 s to start, with
 * 3.4 s of CPU in its first 118 s, all of it loading classes. The client compiler alone halves
 * the CPU a broker needs to start (measured: 8.3 s with both compilers, 4.6 s with C1 only);
 * at this project's loads the slower steady-state code costs nothing that shows.
 */
const CLUSTER_NODE_JIT = ['-XX:TieredStopAtLevel=1'];

function jvmArgs(dir: string): string[] {
  const heap = (process.env.KAFKA_HEAP_OPTS ?? '-Xms256m -Xmx768m').split(/\s+/).filter(Boolean);
  return [
    ...heap,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
    '-cp',
    join(jarsDir, '*'),
  ];
}

async function waitUntilReady(
  bootstrap: string,
  child: ChildProcess,
  dir: string,
  timeoutMs: number,
): Promise<void> {
  let exited: number | string | null = null;
  child.once('exit', (code, signal) => {
    exited = code ?? signal;
  });
  const admin = new Kafka({
    clientId: 'kafka-throttle-broker-probe',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (exited !== null) {
        throw new Error(
          `the broker exited (${exited}) while starting; see ${join(dir, 'broker.log')}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the broker was not ready after ${timeoutMs} ms; see ${join(dir, 'broker.log')}`,
        );
      }
      try {
        await admin.connect();
        const topics = await admin.listTopics();
        if (!topics.includes('__kafka_throttle_probe')) {
          await admin.createTopics({
            topics: [{ topic: '__kafka_throttle_probe', numPartitions: 1, replicationFactor: 1 }],
            waitForLeaders: true,
          });
        }
        return;
      } catch {
        await sleep(250);
      }
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
