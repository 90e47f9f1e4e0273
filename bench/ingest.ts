import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, type RunningBroker, startBroker } from '../scripts/kafka/broker.ts';
import { type RunningCluster, startCluster } from '../scripts/kafka/cluster.ts';
import {
  formatReport,
  type Lineup,
  type Round,
  type StorageCheck,
  serversOf,
  sum,
} from './ingest-report.ts';
import {
  killLeftovers,
  type Server,
  startBare,
  startIngest,
  stopServer,
} from './ingest-servers.ts';
import { cpuMs, treeCpuMs } from './process-tree-cpu.ts';
import { batchHistogram, histogramDiff } from './produce-batches.ts';

/**
 * `pnpm bench:ingest`: requests/s, latency and CPU per request, in one run on one machine, of
 *   (a)  ingest with `ingest.workers=auto` (a primary and one worker per CPU), a real broker, acks=all
 *   (a1) ingest with one worker (a single process), the same broker
 *   (b)  a bare Koa app answering 202 without Kafka: the ceiling of the HTTP stack alone
 *   (c)  with --brokers=3: (a) against a local cluster of that many brokers (replication 3,
 *        min.insync.replicas 2)
 *
 * Every server is a child process, as in production; the load generator (autocannon) runs in
 * this process and each broker in its own JVM. The measured time is split into rounds, each
 * taking the servers in another order, so load from other processes on a shared machine weighs
 * on all of them alike. CPU per request counts every process of a service (ingest's primary and
 * its workers): unlike requests/s it hardly depends on what else runs on the machine.
 *
 * Flags: --duration=20 (measured seconds per server) --rounds=4 --warmup=10 (s per server;
 *        the broker's JIT needs several seconds before its CPU cost per record settles)
 *        --connections=64 --body-bytes=200 --partitions=6 --linger=2ms
 *        --profile (CPU profiles of every server's processes into reports/ingest-profile/)
 *        --brokers=3 adds (c), measured in the same alternating rounds
 */
const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'body-bytes': { type: 'string', default: '200' },
    partitions: { type: 'string', default: '6' },
    linger: { type: 'string', default: '2ms' },
    profile: { type: 'boolean', default: false },
    brokers: { type: 'string', default: '1' },
  },
});
const settings = {
  duration: Number(flags.duration),
  rounds: Math.max(1, Number(flags.rounds)),
  warmup: Number(flags.warmup),
  connections: Number(flags.connections),
  bodyBytes: Number(flags['body-bytes']),
  partitions: flags.partitions,
  linger: flags.linger,
  brokers: Number(flags.brokers),
};
const root = fileURLToPath(new URL('../', import.meta.url));
const profileDir = flags.profile ? join(root, 'reports', 'ingest-profile') : undefined;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Kafka for the run: one broker always, a cluster with --brokers above 1. */
interface Brokers {
  single: RunningBroker;
  cluster?: RunningCluster;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
  const brokers: Partial<Brokers> = {};
  try {
    await startBrokers(dir, brokers);
    const kafka = brokers as Brokers;
    const topic = `bench-ingest-${Date.now()}`;
    const lineup = await startLineup(kafka, topic);
    const servers = serversOf(lineup);
    const body = jsonBody(settings.bodyBytes);
    const warmOk = await warmUp(servers, body);
    const before = await batchHistogram(lineup.workers.url);
    const results = await measureRounds(servers, body);
    const batches = histogramDiff(await batchHistogram(lineup.workers.url), before);
    for (const server of servers) await stopServer(server);
    const accepted = (server: Server): number =>
      (warmOk.get(server) ?? 0) + sum(results.get(server) ?? [], (r) => r.ok);
    const checks = await storageChecks(servers, topic, accepted);
    process.stdout.write(formatReport({ settings, lineup, results, batches, checks, profileDir }));
  } finally {
    killLeftovers();
    await brokers.cluster?.stop();
    await brokers.single?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Fills `brokers` as each starts, so the caller stops whatever started if a later one fails. */
async function startBrokers(dir: string, brokers: Partial<Brokers>): Promise<void> {
  log(`starting a broker in ${dir}`);
  brokers.single = await startBroker({
    dir,
    port: await freePort(),
    controllerPort: await freePort(),
  });
  if (settings.brokers <= 1) return;
  log(`starting a cluster of ${settings.brokers} brokers in ${dir}/cluster`);
  const nodes = [];
  for (let i = 0; i < settings.brokers; i++) {
    nodes.push({ port: await freePort(), controllerPort: await freePort() });
  }
  brokers.cluster = await startCluster({ dir: join(dir, 'cluster'), nodes });
}

async function startLineup(kafka: Brokers, topic: string): Promise<Lineup> {
  const common = {
    topic,
    partitions: settings.partitions,
    linger: settings.linger,
  };
  const oneBroker = {
    ...common,
    bootstrap: kafka.single.bootstrap,
    brokerPids: [kafka.single.pid],
    replicas: 1,
  };
  const profile = (name: string): string | undefined =>
    profileDir ? join(profileDir, name) : undefined;
  const lineup: Lineup = {
    workers: await startIngest({
      ...oneBroker,
      workers: 'auto',
      id: '(a)',
      label: 'ingest',
      profileDir: profile('ingest-workers-auto'),
    }),
    single: await startIngest({
      ...oneBroker,
      workers: '1',
      id: '(a1)',
      label: 'ingest',
      profileDir: profile('ingest-workers-1'),
    }),
    bare: await startBare(profile('bare')),
  };
  if (kafka.cluster) {
    lineup.cluster = await startIngest({
      ...common,
      bootstrap: kafka.cluster.bootstrap,
      brokerPids: kafka.cluster.nodes.map((n) => n.pid as number),
      replicas: Math.min(3, settings.brokers),
      workers: 'auto',
      id: '(c)',
      label: `ingest, ${settings.brokers} brokers`,
      profileDir: profile(`ingest-${settings.brokers}-brokers`),
    });
  }
  return lineup;
}

function jsonBody(size: number): string {
  const base = { event: 'order.created', customer: 'c-1042', amount: 1999, currency: 'EUR' };
  const padding = Math.max(0, size - JSON.stringify({ ...base, note: '' }).length);
  return JSON.stringify({ ...base, note: 'x'.repeat(padding) });
}

/** Loads every server unmeasured; returns the 2xx answers each gave, which Kafka must hold. */
async function warmUp(servers: Server[], body: string): Promise<Map<Server, number>> {
  const ok = new Map<Server, number>();
  for (const server of servers) {
    log(`${server.name}: warming up for ${settings.warmup} s`);
    ok.set(server, (await load(server.url, body, settings.warmup))['2xx']);
  }
  return ok;
}

async function measureRounds(servers: Server[], body: string): Promise<Map<Server, Round[]>> {
  const results = new Map<Server, Round[]>(servers.map((server) => [server, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const server of roundOrder(servers, round)) {
      results.get(server)?.push(await measure(server, body, round));
    }
  }
  return results;
}

/** Rotated by the round and reversed every other round, so no server always follows another. */
function roundOrder(servers: Server[], round: number): Server[] {
  const order = servers.map((_, i) => servers[(i + round) % servers.length] as Server);
  return round % 2 === 1 ? order.reverse() : order;
}

function load(url: string, body: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: settings.connections,
    duration: seconds,
  });
}

async function measure(server: Server, body: string, round: number): Promise<Round> {
  const seconds = settings.duration / settings.rounds;
  log(
    `${server.name}: round ${round + 1}/${settings.rounds}, ${seconds} s at ${settings.connections} connections`,
  );
  const pid = server.child.pid as number;
  const brokersCpu = (): number => total(server.brokerPids.map(cpuMs));
  const serviceBefore = treeCpuMs(pid);
  const brokerBefore = brokersCpu();
  const loadBefore = process.cpuUsage();
  const result = await load(server.url, body, seconds);
  const loadUsed = process.cpuUsage(loadBefore);
  return {
    requests: result['2xx'] + result.non2xx,
    ok: result['2xx'],
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serviceCpuMs: treeCpuMs(pid) - serviceBefore,
    brokerCpuMs: brokersCpu() - brokerBefore,
    loadCpuMs: (loadUsed.user + loadUsed.system) / 1000,
  };
}

function total(values: number[]): number {
  return values.reduce((acc, v) => acc + v, 0);
}

/** Per Kafka: the records in the topic against the 202 answers of the servers writing to it. */
async function storageChecks(
  servers: Server[],
  topic: string,
  accepted: (server: Server) => number,
): Promise<StorageCheck[]> {
  const byKafka = new Map<string, Server[]>();
  for (const server of servers) {
    if (server.bootstrap)
      byKafka.set(server.bootstrap, [...(byKafka.get(server.bootstrap) ?? []), server]);
  }
  const checks: StorageCheck[] = [];
  for (const [bootstrap, writers] of byKafka) {
    checks.push({
      kafka: writers[0]?.brokerPids.length === 1 ? 'the broker' : 'the cluster',
      servers: writers.map((s) => s.id).join(' + '),
      stored: await recordsInTopic(bootstrap, topic),
      accepted: total(writers.map(accepted)),
    });
  }
  return checks;
}

async function recordsInTopic(bootstrap: string, topic: string): Promise<number> {
  const admin = new Kafka({
    clientId: 'bench-ingest',
    brokers: bootstrap.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((total, p) => total + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}`);
    killLeftovers();
    process.exit(1);
  },
);
