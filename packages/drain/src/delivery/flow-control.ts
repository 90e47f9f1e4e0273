export interface FlowControlOptions {
  /** A partition holding this many records (or maxBytes) is paused at the consumer… */
  highWater: number;
  /** …and resumed once it is down to this many (and half of maxBytes). */
  lowWater: number;
  maxBytes: number;
  onPause(partition: number): void;
  onResume(partition: number): void;
}

/** How full one partition's queue is. */
export interface Fill {
  records: number;
  bytes: number;
}

export interface FlowControl {
  /** Records were added: pauses the partition at the high water mark. */
  filled(partition: number, fill: Fill): void;
  /** Records left: resumes the partition at the low water mark. */
  drained(partition: number, fill: Fill): void;
  /** The queue is being reset or forgotten: a paused partition is resumed. */
  release(partition: number): void;
  paused(): number[];
}

/**
 * Backpressure from the partition queues to the consumer. kafkajs fetches as fast as it can;
 * a queue that reaches the high water mark pauses its partition, and one that drains to the low
 * water mark resumes it. The gap between the two marks keeps a partition from flapping between
 * paused and resumed on every record. This is about memory, not about the rate: pacing never
 * pauses a partition.
 */
export function createFlowControl(options: FlowControlOptions): FlowControl {
  const pausedPartitions = new Set<number>();

  function resume(partition: number): void {
    if (pausedPartitions.delete(partition)) options.onResume(partition);
  }

  return {
    filled(partition, fill) {
      if (pausedPartitions.has(partition)) return;
      if (fill.records >= options.highWater || fill.bytes >= options.maxBytes) {
        pausedPartitions.add(partition);
        options.onPause(partition);
      }
    },
    drained(partition, fill) {
      if (fill.records <= options.lowWater && fill.bytes <= options.maxBytes / 2) {
        resume(partition);
      }
    },
    release: resume,
    paused: () => [...pausedPartitions],
  };
}
