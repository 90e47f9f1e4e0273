import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { deliverNow } from '../../test/support/deliver-now.ts';
import { createLogSink } from './log-sink.ts';
import type { Delivery } from './sink.ts';

const clock = { now: () => Date.parse('2026-11-29T12:00:00.000Z'), sleep: async () => {} };

function delivery(body: string, contentType: string): Delivery {
  return {
    envelope: { id: 'id-7', body: Buffer.from(body), key: null, contentType, receivedAt: 5 },
    topic: 'requests',
    partition: 1,
    offset: '7',
    attempt: 1,
  };
}

async function linesOf(run: (stream: PassThrough) => Promise<void>): Promise<unknown[]> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  await run(stream);
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

describe('createLogSink', () => {
  it('prints one JSON line per delivery, a JSON body as JSON', async () => {
    const lines = await linesOf(async (stream) => {
      const sink = createLogSink({ clock, stream });
      expect(
        await deliverNow(
          sink,
          delivery('{"a":[1,2]}', 'application/json'),
          new AbortController().signal,
        ),
      ).toEqual({
        kind: 'delivered',
      });
      await deliverNow(sink, delivery('plain text', 'text/plain'), new AbortController().signal);
      await deliverNow(sink, delivery('{broken', 'application/json'), new AbortController().signal);
      await deliverNow(
        sink,
        delivery('{"v":1}', 'application/cloudevents+json'),
        new AbortController().signal,
      );
    });
    expect(lines).toEqual([
      {
        msg: 'delivered',
        time: '2026-11-29T12:00:00.000Z',
        id: 'id-7',
        topic: 'requests',
        partition: 1,
        offset: '7',
        key: null,
        attempt: 1,
        receivedAt: 5,
        contentType: 'application/json',
        body: { a: [1, 2] },
      },
      expect.objectContaining({ body: 'plain text' }),
      expect.objectContaining({ body: '{broken' }),
      expect.objectContaining({ body: { v: 1 } }),
    ]);
  });

  it('asks for a retry when the stream fails', async () => {
    const stream = new PassThrough();
    stream.destroy();
    const sink = createLogSink({ clock, stream });
    const outcome = await deliverNow(
      sink,
      delivery('{}', 'application/json'),
      new AbortController().signal,
    );
    expect(outcome.kind).toBe('retry');
  });
});
