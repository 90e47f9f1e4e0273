import type { Clock, Config } from '@kafka-throttle/common';
import { DrainError } from '../errors.ts';
import { createHttpSink } from './http-sink.ts';
import { createLogSink } from './log-sink.ts';
import type { Sink } from './sink.ts';

/** The sink `sink.type` names, set up from the other `sink.*` keys. */
export function sinkFromConfig(sink: Config['sink'], clock: Clock): Sink {
  if (sink.type === 'log') return createLogSink({ clock });
  if (sink.url === undefined) {
    // loadConfig refuses this already; a hand-built Config could still carry it.
    throw new DrainError('invalid_config', 'sink.url is required when sink.type is "http"');
  }
  return createHttpSink({
    url: sink.url,
    headers: sink.headers,
    signingSecrets: sink.signingSecret,
    timeoutMs: sink.timeout,
    clock,
  });
}
