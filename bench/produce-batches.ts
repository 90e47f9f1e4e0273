/**
 * ingest's produce batch size histogram (`ingest_produce_batch_size` on /metrics, summed over
 * the workers): how many requests shared one produce request while the bench measured.
 */

/** Cumulative count per bucket bound, plus 'sum' and 'count'. */
export type Histogram = Map<string, number>;

export async function batchHistogram(url: string): Promise<Histogram> {
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

export function histogramDiff(after: Histogram, before: Histogram): Histogram {
  return new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)]));
}

/** A table of the non-empty buckets of a histogram taken from the server named `of`. */
export function histogramTable(batches: Histogram, of: string): string[] {
  const count = batches.get('count') ?? 0;
  const total = batches.get('sum') ?? 0;
  const lines = [
    `produce batch size of ${of} while measured: ${count} produce requests, mean ${(total / Math.max(1, count)).toFixed(1)} records`,
    '| records per produce request | produce requests | share |',
    '|-----------------------------|-----------------:|------:|',
  ];
  let previousBound = '0';
  let previousCount = 0;
  for (const [bound, cumulative] of batches) {
    if (bound === 'sum' || bound === 'count') continue;
    const inBucket = cumulative - previousCount;
    if (inBucket > 0) {
      const range =
        bound === '+Inf' ? `> ${previousBound}` : `${Number(previousBound) + 1}-${bound}`;
      lines.push(
        `| ${range.padEnd(27)} | ${String(inBucket).padStart(16)} | ${((100 * inBucket) / Math.max(1, count)).toFixed(1).padStart(4)}% |`,
      );
    }
    previousBound = bound;
    previousCount = cumulative;
  }
  return lines;
}
