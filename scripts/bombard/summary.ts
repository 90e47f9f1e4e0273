/** What happened to one request: a response with a status, or a transport error (no response). */
export type Outcome =
  | { kind: 'response'; status: number; latencyMs: number }
  | { kind: 'error'; error: string; latencyMs: number };

export interface Summary {
  sent: number;
  /** 2xx answers: for ingest, 202 = durably in Kafka. */
  accepted: number;
  /** Non-2xx answers by status code, ascending. */
  rejected: [status: number, count: number][];
  /** Requests that got no HTTP answer, by error text. */
  transportErrors: [error: string, count: number][];
  elapsedMs: number;
  requestsPerSecond: number;
  /** Latency of the requests that got an answer; undefined when none did. */
  latency: { p50: number; p95: number; p99: number; max: number } | undefined;
}

/**
 * Nearest-rank percentile of values sorted ascending: the smallest value that at least p% of the
 * values are less than or equal to. Undefined for an empty list.
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  if (p <= 0) return sorted[0];
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1];
}

export function summarize(outcomes: readonly Outcome[], elapsedMs: number): Summary {
  let accepted = 0;
  const rejected = new Map<number, number>();
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  for (const outcome of outcomes) {
    if (outcome.kind === 'error') {
      errors.set(outcome.error, (errors.get(outcome.error) ?? 0) + 1);
      continue;
    }
    latencies.push(outcome.latencyMs);
    if (outcome.status >= 200 && outcome.status < 300) accepted += 1;
    else rejected.set(outcome.status, (rejected.get(outcome.status) ?? 0) + 1);
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number): number => percentile(latencies, p) as number;
  return {
    sent: outcomes.length,
    accepted,
    rejected: [...rejected.entries()].sort((a, b) => a[0] - b[0]),
    transportErrors: [...errors.entries()].sort((a, b) => b[1] - a[1]),
    elapsedMs,
    requestsPerSecond: elapsedMs > 0 ? (outcomes.length * 1000) / elapsedMs : 0,
    latency:
      latencies.length === 0
        ? undefined
        : { p50: at(50), p95: at(95), p99: at(99), max: latencies[latencies.length - 1] as number },
  };
}

/** True when every request was answered with a 2xx. */
export function allAccepted(summary: Summary): boolean {
  return summary.sent > 0 && summary.accepted === summary.sent;
}

/** The summary as a two-column table of plain text. */
export function formatSummary(summary: Summary): string {
  const rows: [string, string][] = [
    ['requests sent', String(summary.sent)],
    ['accepted (2xx)', String(summary.accepted)],
  ];
  if (summary.rejected.length === 0) rows.push(['rejected', '0']);
  for (const [status, count] of summary.rejected) rows.push([`rejected ${status}`, String(count)]);
  const errorCount = summary.transportErrors.reduce((sum, [, count]) => sum + count, 0);
  rows.push(['transport errors', String(errorCount)]);
  for (const [error, count] of summary.transportErrors) rows.push([`  ${error}`, String(count)]);
  rows.push(
    ['duration', `${(summary.elapsedMs / 1000).toFixed(2)} s`],
    ['requests/s', summary.requestsPerSecond.toFixed(1)],
  );
  const latency = summary.latency;
  rows.push(
    ['latency p50', latency ? ms(latency.p50) : '-'],
    ['latency p95', latency ? ms(latency.p95) : '-'],
    ['latency p99', latency ? ms(latency.p99) : '-'],
    ['latency max', latency ? ms(latency.max) : '-'],
  );
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
