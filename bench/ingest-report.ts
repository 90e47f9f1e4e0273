import { cpus, loadavg } from 'node:os';
import type { Server } from './ingest-servers.ts';
import { type Histogram, histogramTable } from './produce-batches.ts';

/** What `pnpm bench:ingest` prints: one table row per server, then ratios and checks. */

/** One measured load run against one server. */
export interface Round {
  requests: number;
  ok: number;
  seconds: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU of the service's processes together (ingest's primary and its workers). */
  serviceCpuMs: number;
  brokerCpuMs: number;
  loadCpuMs: number;
}

/** The servers of one run, by their part in the comparison. */
export interface Lineup {
  /** (a) ingest with `ingest.workers=auto`. */
  workers: Server;
  /** (a1) ingest with one worker: a single process, no primary. */
  single: Server;
  /** (b) the bare Koa baseline. */
  bare: Server;
  /** (c) ingest with `ingest.workers=auto` against a local cluster (`--brokers=3`). */
  cluster?: Server;
}

export interface Settings {
  connections: number;
  duration: number;
  rounds: number;
  warmup: number;
  bodyBytes: number;
  partitions: string;
  linger: string;
  brokers: number;
}

/** Records a Kafka holds against the 202 answers of the servers that wrote to it. */
export interface StorageCheck {
  kafka: string;
  servers: string;
  stored: number;
  accepted: number;
}

export interface Report {
  settings: Settings;
  lineup: Lineup;
  results: Map<Server, Round[]>;
  batches: Histogram;
  checks: StorageCheck[];
  profileDir?: string;
}

interface Summary {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  serviceUs: number;
  brokerUs: number;
  loadUs: number;
}

export function formatReport(report: Report): string {
  const servers = serversOf(report.lineup);
  const measured = new Map(servers.map((s) => [s, measuredOf(report.results, s)]));
  const of = (server: Server): Measured => measured.get(server) as Measured;
  const lines = [
    ...header(report.settings),
    '',
    ...table(servers.map((s) => [s.name, of(s).summary])),
    '(p50: median of the rounds; p99: worst round; CPU: user + system per request, the service being all its',
    ` processes together, primary and workers; the load generator used ${of(report.lineup.workers).summary.loadUs.toFixed(0)} µs per request of (a))`,
    '',
    ...goalLines(report, of),
    ...report.checks.map(storageLine),
    `  (Kafka may hold up to ${report.settings.connections} more records per load run than counted: requests still in flight when a run ends are stored but their answers are not counted)`,
    '',
    ...histogramTable(report.batches, '(a)'),
  ];
  if (report.profileDir) {
    lines.push('', `CPU profiles of every server written to ${report.profileDir}`);
  }
  return `${lines.join('\n')}\n`;
}

interface Measured {
  rounds: Round[];
  summary: Summary;
}

function measuredOf(results: Map<Server, Round[]>, server: Server): Measured {
  const rounds = results.get(server) ?? [];
  return { rounds, summary: summarize(rounds) };
}

/** The ratios between rows and the targets, each with whether this run met it. */
function goalLines(report: Report, of: (server: Server) => Measured): string[] {
  const { workers, single, bare, cluster } = report.lineup;
  const a = of(workers).summary;
  const ratio = (x: Server, y: Server): number => of(x).summary.rps / of(y).summary.rps;
  const ratioLine = (label: string, x: Server, y: Server): string =>
    `ratio ${label} (req/s): ${ratio(x, y).toFixed(2)}, per round ${perRoundRatios(of(x).rounds, of(y).rounds)}`;
  const lines = [
    `${ratioLine('a/a1, default workers against one worker', workers, single)}  (target >= 1.9: ${verdict(ratio(workers, single) >= 1.9)})`,
    `${ratioLine('a/b, ingest against bare Koa', workers, bare)}  (goal >= 0.5: ${verdict(ratio(workers, bare) >= 0.5)})`,
    `CPU of (a): ${a.serviceUs.toFixed(0)} µs per request  (target <= 40: ${verdict(a.serviceUs <= 40)})`,
    `p99 of (a): ${a.p99} ms  (target < 20 ms: ${verdict(a.p99 < 20)})`,
  ];
  for (const server of ingestServers(report.lineup)) {
    const failed = of(server).summary.non2xx + of(server).summary.errors;
    lines.push(`non-2xx + errors of ${server.id}: ${failed}  (goal 0: ${verdict(failed === 0)})`);
  }
  if (cluster) {
    lines.push(ratioLine(`c/a, ${report.settings.brokers} brokers against one`, cluster, workers));
  }
  return lines;
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

/** The rows in the table's order. */
export function serversOf(lineup: Lineup): Server[] {
  return [lineup.workers, lineup.single, lineup.bare, lineup.cluster].filter(
    (s): s is Server => s !== undefined,
  );
}

function ingestServers(lineup: Lineup): Server[] {
  return [lineup.workers, lineup.single, lineup.cluster].filter(
    (s): s is Server => s !== undefined,
  );
}

function header(s: Settings): string[] {
  return [
    `ingest benchmark: ${s.connections} connections, ${s.duration} s measured per server in ${s.rounds} alternating rounds ` +
      `(after ${s.warmup} s warm-up), ${s.bodyBytes}-byte JSON bodies, ${s.partitions} partitions, linger ${s.linger}`,
    `machine: ${cpus().length} cores, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}; ` +
      'servers are child processes, autocannon runs in the bench process, each broker in its own JVM',
  ];
}

function table(rows: [string, Summary][]): string[] {
  const width = Math.max(6, ...rows.map(([name]) => name.length));
  const lines = [
    `| ${'server'.padEnd(width)} |   req/s | p50 ms | p99 ms | non-2xx | errors | CPU µs/request: service | broker |`,
    `|${'-'.repeat(width + 2)}|--------:|-------:|-------:|--------:|-------:|------------------------:|-------:|`,
  ];
  for (const [name, m] of rows) {
    const broker = m.brokerUs > 0 ? m.brokerUs.toFixed(0) : '-';
    lines.push(
      `| ${name.padEnd(width)} | ${m.rps.toFixed(0).padStart(7)} | ${String(m.p50).padStart(6)} | ${String(m.p99).padStart(6)} | ` +
        `${String(m.non2xx).padStart(7)} | ${String(m.errors).padStart(6)} | ${m.serviceUs.toFixed(0).padStart(23)} | ${broker.padStart(6)} |`,
    );
  }
  return lines;
}

function storageLine(check: StorageCheck): string {
  return (
    `records in ${check.kafka}: ${check.stored}; 202 answers of ${check.servers} (warm-up included): ${check.accepted}` +
    `  (every 202 stored: ${verdict(check.stored >= check.accepted)})`
  );
}

function summarize(rounds: Round[]): Summary {
  const requests = Math.max(
    1,
    sum(rounds, (r) => r.requests),
  );
  const perRequestUs = (pick: (r: Round) => number): number =>
    (sum(rounds, pick) / requests) * 1000;
  return {
    rps: sum(rounds, (r) => r.requests) / sum(rounds, (r) => r.seconds),
    p50: median(rounds.map((r) => r.p50)),
    p99: Math.max(...rounds.map((r) => r.p99)),
    non2xx: sum(rounds, (r) => r.non2xx),
    errors: sum(rounds, (r) => r.errors),
    serviceUs: perRequestUs((r) => r.serviceCpuMs),
    brokerUs: perRequestUs((r) => r.brokerCpuMs),
    loadUs: perRequestUs((r) => r.loadCpuMs),
  };
}

/** Ratios of requests/s round by round: both were measured in the same round. */
function perRoundRatios(x: Round[], y: Round[]): string {
  const rate = (r: Round): number => r.requests / r.seconds;
  return x.map((r, i) => (rate(r) / rate(y[i] as Round)).toFixed(2)).join(', ');
}

export function sum(rounds: Round[], pick: (r: Round) => number): number {
  return rounds.reduce((total, r) => total + pick(r), 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
