import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, startBroker } from '../scripts/kafka/broker.ts';

/**
 * `pnpm bench:ingest`: requests/s and latency of (a) ingest with a real broker and full acks
 * against (b) a bare Koa app answering 202 without Kafka, same load, same run, same machine.
 *
 * Both servers run as child processes (one Node process each, as in production), the load
 * generator (autocannon) runs in this process, the broker in its own JVM. On a 2-core machine
 * that is fairer than putting server and load generator in one event loop.
 *
 * Flags: --duration=10 (s per measured run) --warmup=3 (s, not measured) --connections=64
 *        --body-bytes=200 --partitions=6 --linger=2ms --profile (CPU profile of ingest, in
 *        reports/ingest-profile/)
 */
const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    'body-bytes': { type: 'string', default: '200' },
    partitions: { type: 'string', default: '6' },
    linger: { type: 'string', default: '2ms' },
    profile: { type: 'boolean', default: false },
  },
});
const duration = Number(flags.duration);
const warmup = Number(flags.warmup);
const connections = Number(flags.connections);
const bodyBytes = Number(flags['body-bytes']);
const root = fileURLToPath(new URL('../', import.meta.url));
const profileDir = join(root, 'reports', 'ingest-profile');

interface Measured {
  name: string;
  /** CPU milliseconds per 1000 answered requests, by process; robust to other load. */
  cpuPerK: { server: number; broker?: number };
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  ok: number;
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
  try {
    const body = jsonBody(bodyBytes);
    const bareUrl = await startBare();
    const bare = await measure('(b) bare Koa, no Kafka', bareUrl, body, children[0]?.pid);
    await stopChild(children[0]);

    const topic = `bench-ingest-${Date.now()}`;
    const ingestUrl = await startIngest(broker.bootstrap, topic);
    const before = await batchHistogram(ingestUrl);
    const ingest = await measure(
      '(a) ingest, Kafka acks=all',
      ingestUrl,
      body,
      children[1]?.pid,
      broker.pid,
    );
    const after = await batchHistogram(ingestUrl);
    await stopChild(children[1]);
    const stored = await recordsInTopic(broker.bootstrap, topic);

    printReport(ingest, bare, diff(after, before), stored);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function jsonBody(size: number): string {
  const base = { event: 'order.created', customer: 'c-1042', amount: 1999, currency: 'EUR' };
  const padding = Math.max(0, size - JSON.stringify({ ...base, note: '' }).length);
  return JSON.stringify({ ...base, note: 'x'.repeat(padding) });
}

async function startBare(): Promise<string> {
  const port = await freePort();
  spawnChild(['bench/ingest-bare-koa.ts'], { BARE_PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(url, { method: 'POST', body: '{}' })).status === 202);
  return url;
}

async function startIngest(bootstrap: string, topic: string): Promise<string> {
  const port = await freePort();
  const nodeArgs = flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  spawnChild(
    ['packages/ingest/src/main.ts'],
    {
      KAFKA_BROKERS: bootstrap,
      KAFKA_TOPIC: topic,
      KAFKA_PARTITIONS: flags.partitions,
      INGEST_PORT: String(port),
      INGEST_HOST: '127.0.0.1',
      INGEST_LINGER: flags.linger,
      LOG_LEVEL: 'warn',
      EXPERIMENT_LANES: process.env.EXPERIMENT_LANES ?? '1',
    },
    nodeArgs,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200);
  return url;
}

function spawnChild(args: string[], env: Record<string, string>, nodeArgs: string[] = []): void {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
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

async function measure(
  name: string,
  url: string,
  body: string,
  serverPid: number | undefined,
  brokerPid?: number,
): Promise<Measured> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body,
    connections,
  };
  if (warmup > 0) {
    log(`${name}: warming up for ${warmup} s`);
    await autocannon({ ...options, duration: warmup });
  }
  log(`${name}: measuring for ${duration} s at ${connections} connections`);
  const serverCpu = cpuMs(serverPid);
  const brokerCpu = cpuMs(brokerPid);
  const result = await autocannon({ ...options, duration });
  const answered = Math.max(1, result['2xx'] + result.non2xx) / 1000;
  return {
    name,
    cpuPerK: {
      server: (cpuMs(serverPid) - serverCpu) / answered,
      ...(brokerPid ? { broker: (cpuMs(brokerPid) - brokerCpu) / answered } : {}),
    },
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ok: result['2xx'],
  };
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
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

function printReport(a: Measured, b: Measured, batches: Histogram, stored: number): void {
  const ratio = a.rps / b.rps;
  const out: string[] = [];
  out.push(
    `ingest benchmark: ${connections} connections, ${duration} s measured after ${warmup} s warm-up, ` +
      `${bodyBytes}-byte JSON bodies, ${flags.partitions} partitions, linger ${flags.linger}`,
  );
  out.push(
    `machine: ${cpus().length} cores, Node ${process.version}; servers are child processes, ` +
      'autocannon runs in the bench process, the broker in its own JVM',
  );
  out.push('');
  out.push(
    '| server                     |   req/s | p50 ms | p99 ms | non-2xx | errors | CPU ms per 1000 req |',
  );
  out.push(
    '|----------------------------|--------:|-------:|-------:|--------:|-------:|---------------------|',
  );
  for (const m of [a, b]) {
    const cpu =
      m.cpuPerK.broker === undefined
        ? `${m.cpuPerK.server.toFixed(0)}`
        : `${m.cpuPerK.server.toFixed(0)} + broker ${m.cpuPerK.broker.toFixed(0)}`;
    out.push(
      `| ${m.name.padEnd(26)} | ${m.rps.toFixed(0).padStart(7)} | ${String(m.p50).padStart(6)} | ${String(m.p99).padStart(6)} | ${String(m.non2xx).padStart(7)} | ${String(m.errors).padStart(6)} | ${cpu.padEnd(19)} |`,
    );
  }
  out.push('');
  const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  out.push(`ratio a/b (req/s): ${ratio.toFixed(2)}  (goal >= 0.5: ${verdict(ratio >= 0.5)})`);
  out.push(`p99 of (a): ${a.p99} ms  (goal < 50 ms: ${verdict(a.p99 < 50)})`);
  out.push(
    `non-2xx + errors of (a): ${a.non2xx + a.errors}  (goal 0: ${verdict(a.non2xx + a.errors === 0)})`,
  );
  out.push(
    `records in Kafka: ${stored}, 202 answers to ingest incl. warm-up: >= ${a.ok} measured (every 202 must be stored: ${verdict(stored >= a.ok)})`,
  );
  out.push('');
  const count = batches.get('count') ?? 0;
  const sum = batches.get('sum') ?? 0;
  out.push(
    `produce batch size during the measured run: ${count} produce requests, mean ${(sum / Math.max(1, count)).toFixed(1)} records`,
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
  if (flags.profile) out.push('', `CPU profile of ingest written to ${profileDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  },
);
