import type { KafkaMessage } from 'kafkajs';

/** What the source tells the worker about its assignment and records. */
export interface SourceListener {
  /**
   * A new generation: the partitions of the request topic this worker now owns. kafkajs fetches
   * them again from their committed offsets, so anything queued may be dropped.
   */
  onAssigned(partitions: number[], totalPartitions: number): void;
  /**
   * Same generation, different pace: [] while a rejoin is starting or heartbeats do not get
   * through (the partitions may be someone else's by now), the partitions again once they do,
   * or a new partition count. Queued records stay: nothing will be fetched again.
   */
  onPacing(partitions: number[], totalPartitions: number, reason: string): void;
  /** The consumer is gone (crash, disconnect): nothing is owned any more. */
  onLost(reason: string): void;
  /** Fetched records of one partition, in offset order. Must return quickly. */
  onRecords(partition: number, messages: KafkaMessage[]): void;
}
