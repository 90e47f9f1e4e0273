import type { Delivery, Sink, SinkOutcome } from '../../src/sinks/sink.ts';

/** Prepares and sends one attempt straight away: a sink tested without the dispatcher's pacing. */
export async function deliverNow(
  sink: Sink,
  delivery: Delivery,
  signal: AbortSignal,
): Promise<SinkOutcome> {
  const prepared = await sink.prepare(delivery, signal);
  return prepared.kind === 'prepared' ? prepared.send() : prepared;
}
