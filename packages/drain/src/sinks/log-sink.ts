import type { Clock } from '@kafka-throttle/common';
import type { Delivery, PreparedAttempt, Sink, SinkOutcome } from './sink.ts';

export interface LogSinkOptions {
  clock: Clock;
  /** Where the lines go; stdout when omitted. */
  stream?: NodeJS.WritableStream;
}

/**
 * Prints one JSON line per delivery. This is the product's output, not a log: it is written
 * whatever `log.level` says, and a slow reader slows delivery down instead of piling up lines.
 */
export function createLogSink(options: LogSinkOptions): Sink {
  const stream = options.stream ?? process.stdout;
  // A closed stdout (EPIPE) also emits 'error'; unheard, that would end the process. The write
  // callback already reports it as a failed attempt.
  const ignore = (): void => {};
  stream.on('error', ignore);

  // Nothing to get ready for a line on a stream: prepared at once, no promise.
  function prepare(delivery: Delivery): PreparedAttempt {
    return {
      kind: 'prepared',
      send: () => deliver(delivery),
      cancel() {},
      onLost() {},
    };
  }

  async function deliver(delivery: Delivery): Promise<SinkOutcome> {
    const { envelope } = delivery;
    const line = `${JSON.stringify({
      msg: 'delivered',
      time: new Date(options.clock.now()).toISOString(),
      id: envelope.id,
      topic: delivery.topic,
      partition: delivery.partition,
      offset: delivery.offset,
      key: envelope.key,
      attempt: delivery.attempt,
      receivedAt: envelope.receivedAt,
      contentType: envelope.contentType,
      body: bodyOf(envelope.contentType, envelope.body),
    })}\n`;
    try {
      await write(stream, line);
      return { kind: 'delivered' };
    } catch (error) {
      return { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
  }

  return {
    name: 'log',
    prepare,
    close: async () => {
      stream.removeListener('error', ignore);
    },
  };
}

/** JSON bodies are printed as JSON values, anything else as text. */
export function bodyOf(contentType: string, body: Buffer): unknown {
  const text = body.toString('utf8');
  if (!isJson(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isJson(contentType: string): boolean {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

function write(stream: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(line, (error) => (error ? reject(error) : resolve()));
  });
}
