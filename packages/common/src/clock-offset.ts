/**
 * How far this process's clock is from the Kafka cluster's, estimated as NTP does from round
 * trips: a write sent at `sentAt` and acknowledged at `ackedAt` (local clock) was stamped by the
 * broker at `brokerAt` (its clock, LogAppendTime), somewhere in between. Assuming the middle,
 * the offset is brokerAt − (sentAt + ackedAt) / 2, wrong by at most half the round trip (plus
 * the broker's whole-millisecond stamp). The sample with the shortest round trip of the last few
 * is the most trustworthy: a slow trip says little about when the broker stamped it.
 */
export interface ClockOffset {
  /** Broker time minus local time: positive when this clock is behind the cluster's. */
  offsetMs: number;
  /** The estimate is within this much of the true offset. */
  uncertaintyMs: number;
}

export interface ClockOffsetEstimator {
  sample(sentAt: number, ackedAt: number, brokerAt: number): void;
  /** The best estimate of the recent samples; undefined before the first. */
  current(): ClockOffset | undefined;
}

/** How many recent samples the best one is chosen from. */
const RECENT = 8;
/** A LogAppendTime is a whole millisecond: the true stamp lies up to 1 ms after it. */
const STAMP_RESOLUTION_MS = 1;

export function createClockOffsetEstimator(): ClockOffsetEstimator {
  const recent: ClockOffset[] = [];
  return {
    sample(sentAt, ackedAt, brokerAt) {
      if (!(ackedAt >= sentAt) || !Number.isFinite(brokerAt)) return;
      const half = (ackedAt - sentAt) / 2;
      recent.push({
        offsetMs: brokerAt + STAMP_RESOLUTION_MS / 2 - (sentAt + half),
        uncertaintyMs: half + STAMP_RESOLUTION_MS / 2,
      });
      if (recent.length > RECENT) recent.shift();
    },
    current() {
      let best: ClockOffset | undefined;
      for (const estimate of recent) {
        if (!best || estimate.uncertaintyMs < best.uncertaintyMs) best = estimate;
      }
      return best;
    },
  };
}
