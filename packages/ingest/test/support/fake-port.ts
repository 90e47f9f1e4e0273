import type { Message } from 'kafkajs';
import type { Placement, ProducePort } from '../../src/kafka/produce-port.ts';

type Behaviour = 'ack' | 'fail' | 'hang' | 'manual';

interface PendingSend {
  messages: Message[];
  signal: AbortSignal;
  resolve: (placements: Placement[]) => void;
  reject: (error: Error) => void;
}

/**
 * A stand-in for the Kafka producer in unit tests: records every produce request and places
 * records like a topic would (consecutive offsets per partition). Behaviour can be switched to
 * fail, hang until given up on, or wait for the test to answer.
 */
export class FakePort implements ProducePort {
  readonly batches: Message[][] = [];
  readonly pending: PendingSend[] = [];
  readonly abortedSends: Message[][] = [];
  /** Every placement handed out, with its record. */
  readonly placed: { message: Message; placement: Placement }[] = [];
  behaviour: Behaviour = 'ack';
  private readonly offsets = new Map<number, number>();
  private roundRobin = 0;

  constructor(private readonly partitions = 3) {}

  send(messages: Message[], signal: AbortSignal): Promise<Placement[]> {
    this.batches.push(messages);
    signal.addEventListener('abort', () => this.abortedSends.push(messages), { once: true });
    switch (this.behaviour) {
      case 'fail':
        return Promise.reject(new Error('the broker refused the request'));
      case 'hang':
        return new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('given up')), { once: true });
        });
      case 'manual':
        return new Promise((resolve, reject) => {
          const send = { messages, signal, resolve, reject };
          this.pending.push(send);
          // Like the real port: giving up rejects at once, whatever Kafka does later.
          signal.addEventListener(
            'abort',
            () => {
              const index = this.pending.indexOf(send);
              if (index >= 0) this.pending.splice(index, 1);
              reject(new Error('given up'));
            },
            { once: true },
          );
        });
      default:
        return Promise.resolve(this.place(messages));
    }
  }

  /** Answers the oldest send waiting in 'manual' mode. */
  ackNext(): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no send is waiting');
    next.resolve(this.place(next.messages));
  }

  failNext(): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no send is waiting');
    next.reject(new Error('the broker refused the request'));
  }

  /** Every record that was part of a produce request, in order. */
  get records(): Message[] {
    return this.batches.flat();
  }

  private place(messages: Message[]): Placement[] {
    return messages.map((message) => {
      const partition =
        message.key === null || message.key === undefined
          ? this.roundRobin++ % this.partitions
          : String(message.key).length % this.partitions;
      const offset = this.offsets.get(partition) ?? 0;
      this.offsets.set(partition, offset + 1);
      const placement = { partition, offset: String(offset) };
      this.placed.push({ message, placement });
      return placement;
    });
  }
}
