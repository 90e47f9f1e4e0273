import type { Message } from 'kafkajs';

/** Where Kafka put a record. Offsets are strings: they are 64-bit. */
export interface Placement {
  partition: number;
  offset: string;
}

/** What the batcher needs from a Kafka producer; tests fake it. */
export interface ProducePort {
  /**
   * Sends `messages` in one produce request, acknowledged by all in-sync replicas, and resolves
   * with each message's placement in the same order. Rejects unless Kafka took every message.
   * Aborting `signal` gives up waiting (rejecting); the records may still land later.
   * The batcher never makes a call before the previous one settled.
   */
  send(messages: Message[], signal: AbortSignal): Promise<Placement[]>;
}
