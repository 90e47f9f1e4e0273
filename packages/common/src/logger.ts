import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  /** The service or component name, on every line as `service`. */
  name: string;
  /** Where lines go; stdout when omitted. Tests pass a stream they can read. */
  destination?: DestinationStream;
}

/**
 * Secrets that must not reach a log line even when a whole configuration, its sink section or
 * a request's headers are logged: the destination's credentials, headers and signing secrets,
 * and the admin token.
 */
const REDACTED = [
  'config.sink.url',
  'config.sink.headers',
  'config.sink.signingSecret',
  'sink.url',
  'sink.headers',
  'sink.signingSecret',
  'config.admin.token',
  'admin.token',
  'headers.authorization',
  'headers.Authorization',
];

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: REDACTED, censor: '[redacted]' },
      base: { service: options.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
