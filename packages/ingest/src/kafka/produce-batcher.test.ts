import { createLogger } from '@kafka-throttle/common';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createManualClock, settle } from '../../../../test-support/manual-clock.ts';
import { FakePort } from '../../test/support/fake-port.ts';
import type { IngestError } from '../errors.ts';
import { createIngestMetrics } from '../metrics.ts';
import { createProduceBatcher, type ProduceBatcher } from './produce-batcher.ts';
import type { Placement } from './produce-port.ts';

const logger = createLogger({ level: 'silent', name: 'test' });

function setup(overrides: { linger?: number; maxMessages?: number; maxBytes?: number } = {}) {
  const clock = createManualClock();
  const port = new FakePort();
  const metrics = createIngestMetrics({ processMetrics: false });
  const batcher = createProduceBatcher({
    port,
    clock,
    logger,
    linger: overrides.linger ?? 5,
    maxMessages: overrides.maxMessages ?? 100,
    maxBytes: () => overrides.maxBytes ?? 1_000_000,
    ackTimeout: 1000,
    metrics,
  });
  return { clock, port, batcher, metrics };
}

const message = (n: number): Message => ({ value: `{"n":${n}}`, key: null });

type Outcome = { placement: Placement } | { error: IngestError };

/** Submits and records how the promise ends, without awaiting it. */
function track(promise: Promise<Placement>): { outcome?: Outcome } {
  const result: { outcome?: Outcome } = {};
  promise.then(
    (placement) => {
      result.outcome = { placement };
    },
    (error: IngestError) => {
      result.outcome = { error };
    },
  );
  return result;
}

/** True when nothing is queued or in flight: a flush then resolves without any send. */
async function isIdle(batcher: ProduceBatcher): Promise<boolean> {
  let idle = false;
  void batcher.flush().then(() => {
    idle = true;
  });
  await settle();
  return idle;
}

/** The sizes of the batches sent so far, then again after each of `acks` acknowledgements. */
async function batchSizesAcking(port: FakePort, acks: number): Promise<number[][]> {
  const sizes = () => port.batches.map((b) => b.length);
  await settle();
  const seen = [sizes()];
  for (let i = 0; i < acks; i++) {
    port.ackNext();
    await settle();
    seen.push(sizes());
  }
  return seen;
}

describe('produce batcher', () => {
  it('sends records that arrive within the linger as one produce request', async () => {
    const { clock, port, batcher } = setup({ linger: 5 });
    const results = [1, 2, 3].map((n) => track(batcher.submit(message(n), 10)));
    await clock.advance(4);
    expect(port.batches).toHaveLength(0);
    await clock.advance(1);
    expect(port.batches).toHaveLength(1);
    expect(port.batches[0]?.map((m) => m.value)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    expect(results.map((r) => r.outcome)).toEqual([
      { placement: { partition: 0, offset: '0' } },
      { placement: { partition: 1, offset: '0' } },
      { placement: { partition: 2, offset: '0' } },
    ]);
  });

  it('sends at once, without waiting for the linger, when the batch is full by count', async () => {
    const { port, batcher } = setup({ linger: 1000, maxMessages: 2 });
    port.behaviour = 'manual';
    for (const n of [1, 2, 3, 4, 5]) track(batcher.submit(message(n), 10));
    expect(await batchSizesAcking(port, 2)).toEqual([[2], [2, 2], [2, 2, 1]]);
  });

  it('bounds a batch by bytes, but always sends a record larger than the bound', async () => {
    const { port, batcher } = setup({ maxBytes: 100 });
    port.behaviour = 'manual';
    track(batcher.submit(message(1), 250));
    track(batcher.submit(message(2), 60));
    track(batcher.submit(message(3), 60));
    expect(await batchSizesAcking(port, 2)).toEqual([[1], [1, 1], [1, 1, 1]]);
  });

  it('keeps one request in flight and sends everything that queued meanwhile right after', async () => {
    const { clock, port, batcher } = setup({ linger: 5 });
    port.behaviour = 'manual';
    const first = track(batcher.submit(message(1), 10));
    await clock.advance(5);
    expect(port.batches).toHaveLength(1);
    const later = [2, 3, 4].map((n) => track(batcher.submit(message(n), 10)));
    await clock.advance(50);
    expect(port.batches).toHaveLength(1);
    expect(later.map((r) => r.outcome)).toEqual([undefined, undefined, undefined]);
    port.ackNext();
    await settle();
    expect(first.outcome).toEqual({ placement: { partition: 0, offset: '0' } });
    expect(port.batches.map((b) => b.length)).toEqual([1, 3]);
    port.ackNext();
    await settle();
    expect(later.every((r) => r.outcome && 'placement' in r.outcome)).toBe(true);
    expect(await isIdle(batcher)).toBe(true);
  });

  it('rejects every record of a failed batch with kafka_unavailable, then sends the next', async () => {
    const { clock, port, batcher, metrics } = setup();
    port.behaviour = 'fail';
    const failed = [1, 2].map((n) => track(batcher.submit(message(n), 10)));
    await clock.advance(5);
    for (const result of failed) {
      expect(result.outcome).toMatchObject({ error: { code: 'kafka_unavailable', status: 503 } });
    }
    port.behaviour = 'ack';
    const next = track(batcher.submit(message(3), 10));
    await clock.advance(5);
    expect(next.outcome).toMatchObject({ placement: { offset: '0' } });
    const failures = await metrics.produceFailures.get();
    expect(failures.values).toEqual([{ labels: { reason: 'error' }, value: 1 }]);
  });

  it('answers kafka_unavailable at the ack timeout and gives up on the send', async () => {
    const { clock, port, batcher } = setup({ linger: 0 });
    port.behaviour = 'hang';
    const stuck = track(batcher.submit(message(1), 10));
    await clock.advance(999);
    expect(stuck.outcome).toBeUndefined();
    await clock.advance(1);
    expect(stuck.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(port.abortedSends).toHaveLength(1);
    // The next record is not stuck behind the abandoned request.
    port.behaviour = 'ack';
    const next = track(batcher.submit(message(2), 10));
    await settle();
    expect(next.outcome).toMatchObject({ placement: { offset: '0' } });
  });

  it('never turns a timed-out record into a success when a late ack arrives', async () => {
    const { clock, port, batcher } = setup({ linger: 5 });
    port.behaviour = 'manual';
    const early = track(batcher.submit(message(1), 10));
    await clock.advance(4);
    const late = track(batcher.submit(message(2), 10));
    await clock.advance(1);
    expect(port.batches.map((b) => b.length)).toEqual([2]);
    await clock.advance(995);
    expect(early.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(late.outcome).toBeUndefined();
    // Kafka acks the batch after the first caller's deadline but before the second's.
    port.ackNext();
    await settle();
    expect(early.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(late.outcome).toEqual({ placement: { partition: 1, offset: '0' } });
  });

  it('sends a record queued behind a stuck request once that one is given up on', async () => {
    const { clock, port, batcher } = setup({ linger: 0 });
    port.behaviour = 'manual';
    const stuck = track(batcher.submit(message(1), 10));
    await clock.advance(600);
    const queued = track(batcher.submit(message(2), 10));
    await clock.advance(399);
    expect(port.batches).toHaveLength(1);
    await clock.advance(1);
    expect(stuck.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(port.batches.map((b) => b.map((m) => m.value))).toEqual([['{"n":1}'], ['{"n":2}']]);
    expect(queued.outcome).toBeUndefined();
    port.ackNext();
    await settle();
    expect(queued.outcome).toMatchObject({ placement: { offset: '0' } });
  });

  it('never sends a record whose ack timeout passed while it was queued', async () => {
    const { clock, port, batcher } = setup({ linger: 0 });
    port.behaviour = 'manual';
    const first = track(batcher.submit(message(1), 10));
    const second = track(batcher.submit(message(2), 10));
    await settle();
    expect(port.batches).toHaveLength(1);
    await clock.advance(1000);
    expect(first.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(second.outcome).toMatchObject({ error: { code: 'kafka_unavailable' } });
    expect(port.records.map((m) => m.value)).toEqual(['{"n":1}']);
    expect(await isIdle(batcher)).toBe(true);
  });

  it('on close, sends what is queued without the linger and refuses new records', async () => {
    const { port, batcher } = setup({ linger: 60_000 });
    port.behaviour = 'manual';
    const queued = track(batcher.submit(message(1), 10));
    await settle();
    expect(port.batches).toHaveLength(0);
    let closed = false;
    void batcher.close().then(() => {
      closed = true;
    });
    await settle();
    expect(port.batches).toHaveLength(1);
    expect(closed).toBe(false);
    port.ackNext();
    await settle();
    expect(queued.outcome).toMatchObject({ placement: { offset: '0' } });
    expect(closed).toBe(true);
    await expect(batcher.submit(message(2), 10)).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('after flush, sends each record at once and still accepts records', async () => {
    const { port, batcher } = setup({ linger: 60_000 });
    await batcher.flush();
    const sent = track(batcher.submit(message(1), 10));
    await settle();
    expect(port.batches).toHaveLength(1);
    expect(sent.outcome).toMatchObject({ placement: { offset: '0' } });
  });

  it('records the batch size distribution', async () => {
    const { clock, batcher, metrics } = setup({ linger: 5 });
    for (const n of [1, 2, 3]) track(batcher.submit(message(n), 10));
    await clock.advance(5);
    track(batcher.submit(message(4), 10));
    await clock.advance(5);
    const { values } = await metrics.batchSize.get();
    const count = values.find((v) => v.metricName === 'ingest_produce_batch_size_count');
    const sum = values.find((v) => v.metricName === 'ingest_produce_batch_size_sum');
    expect(count?.value).toBe(2);
    expect(sum?.value).toBe(4);
  });
});
