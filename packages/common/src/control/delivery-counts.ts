/** What a drain worker has done since it started: one count per attempt's fate. */
export interface DeliveryCounts {
  delivered: number;
  /** Attempts that failed and will be tried again. */
  retried: number;
  deadLettered: number;
}

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

export function parseCounts(value: Buffer): DeliveryCounts | undefined {
  try {
    const raw: unknown = JSON.parse(value.toString('utf8'));
    if (typeof raw !== 'object' || raw === null) return undefined;
    const { delivered, retried, deadLettered } = raw as Record<string, unknown>;
    const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    if (!count(delivered) || !count(retried) || !count(deadLettered)) return undefined;
    return { delivered, retried, deadLettered } as DeliveryCounts;
  } catch {
    return undefined;
  }
}

/** The group's counts, summed over the workers' latest records. */
export interface CountsTally {
  /** A record of a counts key; null is the tombstone a worker writes when it stops. */
  apply(key: string, value: Buffer | null): boolean;
  /** Never decreases while the tally lives: only differences between two readings mean much. */
  total(): DeliveryCounts;
}

/**
 * A stopped worker's last counts stay in the total after its tombstone (so a stop does not
 * look like negative work); a crashed worker's last record stays as it was, adding nothing more.
 */
export function createCountsTally(): CountsTally {
  const live = new Map<string, DeliveryCounts>();
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
        if (last) add(retired, last);
        live.delete(key);
        return true;
      }
      const counts = parseCounts(value);
      if (!counts) return false;
      live.set(key, counts);
      return true;
    },
    total() {
      const sum = { ...retired };
      for (const counts of live.values()) add(sum, counts);
      return sum;
    },
  };
}
