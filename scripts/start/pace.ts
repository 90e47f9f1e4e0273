/**
 * The pace line `pnpm start` prints once per period while drain has a backlog:
 * `12:00:10.004 last 5s: 5 delivered (limit 5), backlog 83, dead letters 0`.
 * Deliveries are counted by the times the log sink stamped on them, over the period that ends
 * now, so the count is the same window the rate promise is about. Backlog and dead letters come
 * from the drain worker's /metrics.
 */
export interface DrainNumbers {
  /** Records not yet delivered: the sum of drain_partition_lag. */
  backlog: number;
  deadLetters: number;
  /** This worker's deliveries per period (drain_share_per_period); live, so a rate change shows. */
  share: number | undefined;
}

/** Sums the samples of the metrics `pnpm start` needs from Prometheus text. */
export function parseDrainMetrics(text: string): DrainNumbers {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const name = match[1] as string;
    sums.set(name, (sums.get(name) ?? 0) + value);
  }
  return {
    backlog: sums.get('drain_partition_lag') ?? 0,
    deadLetters: sums.get('drain_dead_letters_total') ?? 0,
    share: sums.get('drain_share_per_period'),
  };
}

export interface PaceWindow {
  periodMs: number;
  delivered: number;
  /** rate.messages, when drain does not report a share (yet). */
  configuredLimit: number;
  numbers: DrainNumbers;
}

export function paceLine(window: PaceWindow, now: Date): string {
  const { numbers } = window;
  const limit =
    numbers.share !== undefined && numbers.share > 0 ? numbers.share : window.configuredLimit;
  return `${clockTime(now)} last ${formatPeriod(window.periodMs)}: ${window.delivered} delivered (limit ${round(limit)}), backlog ${numbers.backlog}, dead letters ${numbers.deadLetters}`;
}

/** Whether a pace line is worth printing: something is waiting, or was just delivered. */
export function worthShowing(window: PaceWindow): boolean {
  return window.numbers.backlog > 0 || window.delivered > 0;
}

/** Delivery times seen recently, enough to count the last period. */
export class RecentDeliveries {
  private times: number[] = [];

  constructor(private readonly keepMs: number) {}

  record(timeMs: number): void {
    this.times.push(timeMs);
  }

  /** Deliveries stamped within (now − periodMs, now]. */
  countWithin(periodMs: number, now: number): number {
    this.times = this.times.filter((time) => time > now - this.keepMs);
    return this.times.filter((time) => time > now - periodMs && time <= now).length;
  }
}

/** Local wall-clock time with milliseconds, as every timed `pnpm start` line shows it. */
export function clockTime(date: Date): string {
  const ms = String(date.getMilliseconds()).padStart(3, '0');
  return `${date.toTimeString().slice(0, 8)}.${ms}`;
}

function formatPeriod(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
