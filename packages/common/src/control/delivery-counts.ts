/** What a drain worker has done since it started: one count per attempt's fate. */
export interface DeliveryCounts {
  delivered: number;
  /** Attempts that failed and will be tried again. */
  retried: number;
  deadLettered: number;
}

/** A worker's destination breaker while it is open, as the worker's counts record carries it. */
export interface OpenBreaker {
  /** Why it opened, or why its last probe failed. */
  reason: string;
  /** When it opened, epoch ms. */
  since: number;
}

/** What one worker writes under its counts key. */
export interface WorkerReport extends DeliveryCounts {
  /** Present while the worker's destination breaker is open. */
  breaker?: OpenBreaker;
}

/**
 * While a breaker is open its worker writes its report at least this often, even with nothing
 * else changed; a report older than `BREAKER_FRESH_MS` says nothing about the breaker any more
 * (its worker may have crashed with it open, and a crash writes no tombstone).
 */
export const BREAKER_REFRESH_MS = 10_000;
export const BREAKER_FRESH_MS = 3 * BREAKER_REFRESH_MS;

/**
 * Workers write their counts to the control topic under keys of their own, `counts/<worker>`,
 * beside the group's `state` and `hold`. Nothing in Kafka counts retries otherwise: they
 * happen inside a worker and leave no offset behind.
 */
export const COUNTS_KEY_PREFIX = 'counts/';

export function countsKey(worker: string): string {
  return `${COUNTS_KEY_PREFIX}${worker}`;
}

export function isCountsKey(key: string): boolean {
  return key.startsWith(COUNTS_KEY_PREFIX);
}

interface ParsedReport {
  counts: DeliveryCounts;
  breaker: OpenBreaker | undefined;
  /** When the worker wrote it (its clock); NaN if it did not say. */
  at: number;
}

export function parseCounts(value: Buffer): DeliveryCounts | undefined {
  return parseReport(value)?.counts;
}

function parseReport(value: Buffer): ParsedReport | undefined {
  try {
    const raw: unknown = JSON.parse(value.toString('utf8'));
    if (typeof raw !== 'object' || raw === null) return undefined;
    const { delivered, retried, deadLettered, breaker, at } = raw as Record<string, unknown>;
    const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    if (!count(delivered) || !count(retried) || !count(deadLettered)) return undefined;
    return {
      counts: { delivered, retried, deadLettered } as DeliveryCounts,
      breaker: parseBreaker(breaker),
      at: typeof at === 'number' ? at : Number.NaN,
    };
  } catch {
    return undefined;
  }
}

function parseBreaker(raw: unknown): OpenBreaker | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { reason, since } = raw as Record<string, unknown>;
  if (typeof reason !== 'string' || typeof since !== 'number') return undefined;
  return { reason, since };
}

/** The group's counts, summed over the workers' latest records. */
export interface CountsTally {
  /** A record of a counts key; null is the tombstone a worker writes when it stops. */
  apply(key: string, value: Buffer | null): boolean;
  /** Never decreases while the tally lives: only differences between two readings mean much. */
  total(): DeliveryCounts;
  /** The workers whose breaker is open, by their latest reports that are fresh at `now`. */
  openBreakers(now: number): (OpenBreaker & { worker: string })[];
}

/**
 * A stopped worker's last counts stay in the total after its tombstone (so a stop does not
 * look like negative work); a crashed worker's last record stays as it was, adding nothing more.
 */
export function createCountsTally(): CountsTally {
  const live = new Map<string, ParsedReport>();
  const retired: DeliveryCounts = { delivered: 0, retried: 0, deadLettered: 0 };
  const add = (to: DeliveryCounts, from: DeliveryCounts) => {
    to.delivered += from.delivered;
    to.retried += from.retried;
    to.deadLettered += from.deadLettered;
  };
  return {
    apply(key, value) {
      if (value === null) {
        const last = live.get(key);
        if (last) add(retired, last.counts);
        live.delete(key);
        return true;
      }
      const report = parseReport(value);
      if (!report) return false;
      live.set(key, report);
      return true;
    },
    total() {
      const sum = { ...retired };
      for (const report of live.values()) add(sum, report.counts);
      return sum;
    },
    openBreakers(now) {
      return [...live].flatMap(([key, { breaker, at }]) =>
        breaker && now - at <= BREAKER_FRESH_MS
          ? [{ worker: key.slice(COUNTS_KEY_PREFIX.length), ...breaker }]
          : [],
      );
    },
  };
}
