import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, startBroker } from '../scripts/kafka/broker.ts';
import { type RunningCluster, startCluster } from '../scripts/kafka/cluster.ts';

/**
 * `pnpm bench:ingest`: requests/s and latency of (a) ingest with a real broker and full acks
 * against (b) a bare Koa app answering 202 without Kafka, same load, same run, same machine.
 *
 * Both servers run as child processes (one Node process each, as in production); the load
 * generator (autocannon) runs in this process and the broker in its own JVM. On a 2-core machine
 * that is fairer than one event loop for server and load generator. The measured time is split
 * into rounds that alternate b-a, a-b, ..., so load from other processes on a shared machine
 * weighs on both sides alike. CPU time per request of each process is reported too: unlike
 * requests/s it hardly depends on what else runs on the machine.
 *
 * Flags: --duration=20 (measured seconds per server) --rounds=4 --warmup=10 (s per server;
 *        the broker's JIT needs several seconds before its CPU cost per record settles)
 *        --connections=64 --body-bytes=200 --partitions=6 --linger=2ms
 *        --profile (CPU profiles of both servers into reports/ingest-profile/)
 *        --brokers=3 adds (c): ingest against a local cluster of that many brokers (replication
 *        3, min.insync.replicas 2), measured in the same alternating rounds as (a) and (b)
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
const duration = Number(flags.duration);
const rounds = Math.max(1, Number(flags.rounds));
const warmup = Number(flags.warmup);
const connections = Number(flags.connections);
const bodyBytes = Number(flags['body-bytes']);
const clusterSize = Number(flags.brokers);
const root = fileURLToPath(new URL('../', import.meta.url));
const profileDir = join(root, 'reports', 'ingest-profile');

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Extra processes whose CPU counts for this side (the broker or brokers for ingest). */
  brokerPids?: number[];
}

interface Round {
  requests: number;
  ok: number;
  seconds: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  serverCpuMs: number;
  brokerCpuMs: number;
  loadCpuMs: number;
}

const children: ChildProcess[] = [];
const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
  log(`starting a broker in ${dir}`);
  const broker = await startBroker({
    dir,
    port: await freePort(),
    controllerPort: await freePort(),
  });
  let cluster: RunningCluster | undefined;
  try {
    const body = jsonBody(bodyBytes);
    const topic = `bench-ingest-${Date.now()}`;
    const ingest = await startIngest(broker.bootstrap, topic, [broker.pid], 1);
    const bare = await startBare();
    let clustered: Server | undefined;
    if (clusterSize > 1) {
      log(`starting a cluster of ${clusterSize} brokers in ${dir}/cluster`);
      const nodes = [];
      for (let i = 0; i < clusterSize; i++) {
        nodes.push({ port: await freePort(), controllerPort: await freePort() });
      }
      cluster = await startCluster({ dir: join(dir, 'cluster'), nodes });
      const pids = cluster.nodes.map((n) => n.pid as number);
      clustered = await startIngest(cluster.bootstrap, topic, pids, clusterSize);
    }
    const servers = clustered ? [bare, ingest, clustered] : [bare, ingest];

    const warmOk = new Map<Server, number>();
    for (const server of servers) {
      log(`${server.name}: warming up for ${warmup} s`);
      warmOk.set(server, (await load(server.url, body, warmup))['2xx']);
    }
    const before = await batchHistogram(ingest.url);
    const results = new Map<Server, Round[]>(servers.map((server) => [server, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) results.get(server)?.push(await measure(server, body, round));
    }
    const batches = diff(await batchHistogram(ingest.url), before);
    for (const server of servers) await stopChild(server.child);
    const stored = await recordsInTopic(broker.bootstrap, topic);
    const accepted = (warmOk.get(ingest) ?? 0) + sum(results.get(ingest) ?? [], (r) => r.ok);
    const clusterCheck =
      clustered && cluster
        ? {
            rounds: results.get(clustered) ?? [],
            stored: await recordsInTopic(cluster.bootstrap, topic),
            accepted: (warmOk.get(clustered) ?? 0) + sum(results.get(clustered) ?? [], (r) => r.ok),
          }
        : undefined;
    printReport(
      results.get(ingest) ?? [],
      results.get(bare) ?? [],
      batches,
      stored,
      accepted,
      clusterCheck,
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await cluster?.stop();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function jsonBody(size: number): string {
  const base = { event: 'order.created', customer: 'c-1042', amount: 1999, currency: 'EUR' };
  const padding = Math.max(0, size - JSON.stringify({ ...base, note: '' }).length);
  return JSON.stringify({ ...base, note: 'x'.repeat(padding) });
}

async function startBare(): Promise<Server> {
  const port = await freePort();
  const nodeArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/bare`] : [];
  const child = spawnChild(['bench/ingest-bare-koa.ts'], { BARE_PORT: String(port) }, nodeArgs);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url, { method: 'POST', body: '{}' })).status === 202);
  return { name: '(b) bare Koa, no Kafka', url, child };
}

async function startIngest(
  bootstrap: string,
  topic: string,
  brokerPids: number[],
  replicas: number,
): Promise<Server> {
  const port = await freePort();
  const nodeArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/ingest`] : [];
  const child = spawnChild(
    ['packages/ingest/src/main.ts'],
    {
      KAFKA_BROKERS: bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_PARTITIONS: flags.partitions,
      KAFKA_REPLICATION_FACTOR: String(replicas),
      INGEST_PORT: String(port),
      INGEST_HOST: '127.0.0.1',
      INGEST_LINGER: flags.linger,
      LOG_LEVEL: 'warn',
    },
    nodeArgs,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200);
  const name =
    replicas > 1 ? `(c) ingest, ${replicas} brokers acks=all` : '(a) ingest, Kafka acks=all';
  return { name, url, child, brokerPids };
}

function spawnChild(args: string[], env: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the server did not become ready');
    await sleep(200);
  }
}

function load(url: string, body: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  });
}

async function measure(server: Server, body: string, round: number): Promise<Round> {
  const seconds = duration / rounds;
  log(`${server.name}: round ${round + 1}/${rounds}, ${seconds} s at ${connections} connections`);
  const serverCpu = cpuMs(server.child.pid);
  const brokerCpu = brokersCpuMs(server);
  const loadCpu = process.cpuUsage();
  const result = await load(server.url, body, seconds);
  const loadUsed = process.cpuUsage(loadCpu);
  return {
    requests: result['2xx'] + result.non2xx,
    ok: result['2xx'],
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuMs: cpuMs(server.child.pid) - serverCpu,
    brokerCpuMs: brokersCpuMs(server) - brokerCpu,
    loadCpuMs: (loadUsed.user + loadUsed.system) / 1000,
  };
}

function brokersCpuMs(server: Server): number {
  return (server.brokerPids ?? []).reduce((total, pid) => total + cpuMs(pid), 0);
}

/** CPU time (user + system, all threads) a process used so far, from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

type Histogram = Map<string, number>;

/** The produce batch size histogram from ingest's /metrics: cumulative count per bucket. */
async function batchHistogram(url: string): Promise<Histogram> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets: Histogram = new Map();
  for (const match of text.matchAll(/^ingest_produce_batch_size_bucket\{le="([^"]+)"\} (\d+)$/gm)) {
    buckets.set(match[1] as string, Number(match[2]));
  }
  for (const name of ['sum', 'count']) {
    const value = new RegExp(`^ingest_produce_batch_size_${name} (\\S+)$`, 'm').exec(text);
    buckets.set(name, Number(value?.[1] ?? 0));
  }
  return buckets;
}

function diff(after: Histogram, before: Histogram): Histogram {
  return new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]));
}

async function recordsInTopic(bootstrap: string, topic: string): Promise<number> {
  const admin = new Kafka({
    clientId: 'bench-ingest',
    brokers: [bootstrap],
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

function sum(rounds: Round[], pick: (r: Round) => number): number {
  return rounds.reduce((total, r) => total + pick(r), 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface Summary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  cpu: string;
  loadCpu: string;
}

function summarize(rounds: Round[], withBroker: boolean): Summary {
  const requests = sum(rounds, (r) => r.requests);
  const perK = (ms: number): string => ((ms / Math.max(1, requests)) * 1000).toFixed(0);
  return {
    rps: requests / sum(rounds, (r) => r.seconds),
    p50: median(rounds.map((r) => r.p50)),
    p99: Math.max(...rounds.map((r) => r.p99)),
    non2xx: sum(rounds, (r) => r.non2xx),
    errors: sum(rounds, (r) => r.errors),
    cpu: withBroker
      ? `${perK(sum(rounds, (r) => r.serverCpuMs))} + broker ${perK(sum(rounds, (r) => r.brokerCpuMs))}`
      : perK(sum(rounds, (r) => r.serverCpuMs)),
    loadCpu: perK(sum(rounds, (r) => r.loadCpuMs)),
  };
}

function printReport(
  ingestRounds: Round[],
  bareRounds: Round[],
  batches: Histogram,
  stored: number,
  accepted: number,
  cluster?: { rounds: Round[]; stored: number; accepted: number },
): void {
  const a = summarize(ingestRounds, true);
  const b = summarize(bareRounds, false);
  const c = cluster ? summarize(cluster.rounds, true) : undefined;
  const ratio = a.rps / b.rps;
  const out: string[] = [];
  out.push(
    `ingest benchmark: ${connections} connections, ${duration} s measured per server in ${rounds} alternating rounds ` +
      `(after ${warmup} s warm-up), ${bodyBytes}-byte JSON bodies, ${flags.partitions} partitions, linger ${flags.linger}`,
  );
  out.push(
    `machine: ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}; ` +
      'servers are child processes, autocannon runs in the bench process, the broker in its own JVM',
  );
  out.push('');
  out.push(
    '| server                     |   req/s | p50 ms | p99 ms | non-2xx | errors | CPU ms per 1000 requests |',
  );
  out.push(
    '|----------------------------|--------:|-------:|-------:|--------:|-------:|--------------------------|',
  );
  const rows: [string, Summary][] = [
    ['(a) ingest, Kafka acks=all', a],
    ['(b) bare Koa, no Kafka', b],
  ];
  if (c) rows.push([`(c) ${clusterSize} brokers, acks=all`, c]);
  for (const [name, m] of rows) {
    out.push(
      `| ${name.padEnd(26)} | ${m.rps.toFixed(0).padStart(7)} | ${String(m.p50).padStart(6)} | ${String(m.p99).padStart(6)} | ${String(m.non2xx).padStart(7)} | ${String(m.errors).padStart(6)} | ${m.cpu.padEnd(24)} |`,
    );
  }
  out.push(
    `(p50: median of the rounds; p99: worst round; the load generator itself used ${a.loadCpu} (a) and ${b.loadCpu} (b) CPU ms per 1000 requests)`,
  );
  out.push('');
  const perRound = ingestRounds.map((r, i) => {
    const bare = bareRounds[i] as Round;
    return (r.requests / r.seconds / (bare.requests / bare.seconds)).toFixed(2);
  });
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  out.push(
    `ratio a/b (req/s): ${ratio.toFixed(2)}, per round ${perRound.join(', ')}  (goal >= 0.5: ${verdict(ratio >= 0.5)})`,
  );
  out.push(`p99 of (a): ${a.p99} ms  (goal < 50 ms: ${verdict(a.p99 < 50)})`);
  out.push(
    `non-2xx + errors of (a): ${a.non2xx + a.errors}  (goal 0: ${verdict(a.non2xx + a.errors === 0)})`,
  );
  out.push(
    `records in Kafka: ${stored}; 202 answers counted by autocannon (warm-up included): ${accepted}  (every 202 stored: ${verdict(stored >= accepted)})`,
  );
  out.push(
    `  (Kafka may hold up to ${connections} more records per load run than counted: requests still in flight when a run ends are stored but their answers are not counted)`,
  );
  if (c && cluster) {
    out.push(
      `ratio c/a (req/s, ${clusterSize} brokers against 1): ${(c.rps / a.rps).toFixed(2)}; p99 of (c): ${c.p99} ms; non-2xx + errors of (c): ${c.non2xx + c.errors}`,
    );
    out.push(
      `records in the cluster: ${cluster.stored}; 202 answers of (c): ${cluster.accepted}  (every 202 stored: ${verdict(cluster.stored >= cluster.accepted)})`,
    );
  }
  out.push('');
  const count = batches.get('count') ?? 0;
  const total = batches.get('sum') ?? 0;
  out.push(
    `produce batch size while measured: ${count} produce requests, mean ${(total / Math.max(1, count)).toFixed(1)} records`,
  );
  out.push('| records per produce request | produce requests | share |');
  out.push('|-----------------------------|-----------------:|------:|');
  let previousBound = '0';
  let previousCount = 0;
  for (const [bound, cumulative] of batches) {
    if (bound === 'sum' || bound === 'count') continue;
    const inBucket = cumulative - previousCount;
    if (inBucket > 0) {
      const range =
        bound === '+Inf' ? `> ${previousBound}` : `${Number(previousBound) + 1}-${bound}`;
      out.push(
        `| ${range.padEnd(27)} | ${String(inBucket).padStart(16)} | ${((100 * inBucket) / Math.max(1, count)).toFixed(1).padStart(4)}% |`,
      );
    }
    previousBound = bound;
    previousCount = cumulative;
  }
  if (flags.profile) out.push('', `CPU profiles of both servers written to ${profileDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}`);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    process.exit(1);
  },
);
