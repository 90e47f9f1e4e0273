export interface ConsumerTuning {
  /** A member silent this long is dropped from the group and its partitions move on. */
  sessionTimeout: number;
  /** Also how soon a member notices that a rebalance started. */
  heartbeatInterval: number;
  /**
   * Longest wait of a fetch with nothing new, and kafkajs's sleep when every partition is
   * paused: it bounds how late a resumed partition is fetched again (the default is 5 s).
   */
  maxWaitTimeInMs: number;
  maxBytesPerPartition: number;
  /** First pause between attempts to reach Kafka while it is down; it doubles on each failure… */
  reconnectDelayMs: number;
  /** …up to this. */
  reconnectMaxDelayMs: number;
}

export const defaultConsumerTuning: ConsumerTuning = {
  sessionTimeout: 10_000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 100,
  maxBytesPerPartition: 1_048_576,
  reconnectDelayMs: 1000,
  reconnectMaxDelayMs: 8000,
};
