import {
  duration,
  durationText,
  intText,
  isBroker,
  isHttpUrl,
  isInt,
  type KeySpec,
  oneOf,
  parseJson,
  port,
  positiveInt,
  TOPIC,
  TOPIC_EXPECTED,
  text,
} from './config-key-kinds.ts';
import { redactUrl } from './sink-auth.ts';

/**
 * Every configuration key. Keys and variable names are a contract shared with scripts, compose
 * files and external tests: add keys freely, rename none.
 */
export const configSchema = {
  'kafka.brokers': {
    doc: 'comma-separated bootstrap servers',
    env: 'KAFKA_BROKERS',
    default: ['localhost:9092'],
    defaultText: 'localhost:9092',
    expected: 'comma-separated host:port pairs (port 1 to 65535)',
    coerce: (t) =>
      t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    valid: (v) => Array.isArray(v) && v.length > 0 && v.every(isBroker),
  },
  'kafka.clientId': text(
    'client id prefix; each process appends its role, host and pid',
    'KAFKA_CLIENT_ID',
    'kafka-throttle',
  ),
  'kafka.topic': text(
    'the request topic (created if missing)',
    'KAFKA_TOPIC',
    'throttled_topic',
    TOPIC,
    TOPIC_EXPECTED,
  ),
  'kafka.partitions': positiveInt('partitions when the topic is created', 'KAFKA_PARTITIONS', 6),
  'kafka.replicationFactor': positiveInt(
    'replication when topics are created',
    'KAFKA_REPLICATION_FACTOR',
    1,
  ),
  'ingest.host': text('address ingest listens on', 'INGEST_HOST', '0.0.0.0'),
  'ingest.port': port('HTTP port of ingest (0 = any free port, logged)', 'INGEST_PORT', 8080),
  'ingest.maxBodyBytes': positiveInt('larger bodies get 413', 'INGEST_MAX_BODY_BYTES', 524288),
  'ingest.ackTimeout': duration(
    "longest wait for Kafka's ack before 503",
    'INGEST_ACK_TIMEOUT',
    '5s',
  ),
  'ingest.linger': duration(
    'how long a produce batch waits for more requests (0 = send at once)',
    'INGEST_LINGER',
    '2ms',
    0,
  ),
  'ingest.maxBatchMessages': positiveInt(
    'most requests coalesced into one produce request',
    'INGEST_MAX_BATCH_MESSAGES',
    500,
  ),
  'ingest.maxBatchBytes': positiveInt(
    'most body bytes coalesced into one produce request',
    'INGEST_MAX_BATCH_BYTES',
    1_000_000,
  ),
  'ingest.headersTimeout': duration(
    'longest time to receive a request line and headers (slower clients get 408)',
    'INGEST_HEADERS_TIMEOUT',
    '10s',
  ),
  'ingest.requestTimeout': duration(
    'longest time to receive a whole request, headers and body (slower clients get 408)',
    'INGEST_REQUEST_TIMEOUT',
    '30s',
  ),
  'ingest.maxConnections': positiveInt(
    'most client connections open at once; the next gets 503 too_many_connections',
    'INGEST_MAX_CONNECTIONS',
    4096,
  ),
  'ingest.idempotencyWindow': duration(
    'how long an Idempotency-Key is remembered with its body: the same key with another body gets 409 (0 = not checked)',
    'INGEST_IDEMPOTENCY_WINDOW',
    '10m',
    0,
  ),
  'ingest.idempotencyMaxKeys': positiveInt(
    'most Idempotency-Keys remembered per ingest process; the oldest are forgotten first',
    'INGEST_IDEMPOTENCY_MAX_KEYS',
    50_000,
  ),
  'ingest.workers': {
    doc: 'processes serving the ingest port ("auto" = CPUs available, within a container\'s CPU quota; 1 = one process, no primary)',
    env: 'INGEST_WORKERS',
    default: 'auto',
    expected: '"auto" or an integer from 1 to 64',
    coerce: (t) => (t.trim() === 'auto' ? 'auto' : intText(t)),
    valid: (v) => v === 'auto' || (isInt(v) && v >= 1 && v <= 64),
  },
  'ingest.shutdownTimeout': duration(
    'longest graceful stop before ingest exits anyway',
    'INGEST_SHUTDOWN_TIMEOUT',
    '10s',
  ),
  'drain.group': text('consumer group id', 'DRAIN_GROUP', 'throttle-drain'),
  'drain.host': text(
    'address the drain health and metrics server listens on',
    'DRAIN_HOST',
    '0.0.0.0',
  ),
  'drain.port': port(
    'health and metrics port of a drain worker (0 = any free port, logged)',
    'DRAIN_PORT',
    8081,
  ),
  'drain.shutdownTimeout': duration(
    'longest graceful stop before the worker exits anyway',
    'DRAIN_SHUTDOWN_TIMEOUT',
    '8s',
  ),
  'rate.messages': positiveInt(
    'N: deliveries allowed per period, for the whole group',
    'RATE_MESSAGES',
    5,
  ),
  'rate.period': duration(
    'the period: milliseconds or a duration ("250ms", "5s", "1m")',
    'RATE_PERIOD',
    '5s',
  ),
  'rate.burst': {
    doc: 'most deliveries that may start back to back; 1 spaces them evenly',
    env: 'RATE_BURST',
    default: null,
    defaultText: 'rate.messages',
    expected: 'a positive integer no larger than rate.messages',
    coerce: (t) => (t.trim() === '' ? null : intText(t)),
    valid: (v) => v === null || (isInt(v) && v > 0),
  },
  // The guard that makes the rate hold where the destination counts it, not where workers
  // start: measured arrival jitter between a worker and a destination in another process,
  // timer lateness and clock skew between hosts (README, "The guard"). An override only.
  'rate.margin': {
    doc: 'guard added to the period when pacing, for arrival jitter, timer lateness and clock skew between hosts; costs margin / (period + margin) of the rate',
    env: 'RATE_MARGIN',
    default: null,
    defaultText: '10ms, at most 2% of rate.period',
    expected: 'a duration such as "250ms", "5s", "1m" or milliseconds',
    coerce: (t) => (t.trim() === '' ? null : durationText(t)),
    valid: (v) => v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0),
  },
  'sink.type': oneOf('`log` (one JSON line per delivery on stdout) or `http`', 'SINK', 'log', [
    'log',
    'http',
  ]),
  'sink.url': {
    doc: 'destination for `http`; required then',
    env: 'SINK_URL',
    default: null,
    defaultText: '(none)',
    expected: 'an http:// or https:// URL',
    coerce: (t) => (t.trim() === '' ? null : t.trim()),
    valid: (v) => v === null || (typeof v === 'string' && isHttpUrl(v)),
    // Credentials in the URL are sent as HTTP Basic authentication and never shown.
    shown: (v) => JSON.stringify(typeof v === 'string' ? redactUrl(v) : v),
  },
  'sink.headers': {
    doc: 'headers sent with every delivery, a JSON object such as `{"Authorization":"Bearer …"}`; sensitive',
    env: 'SINK_HEADERS',
    default: {},
    defaultText: '(none)',
    expected: 'a JSON object of header names to string values',
    coerce: (t) => (t.trim() === '' ? {} : parseJson(t)),
    valid: (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.values(v).every((value) => typeof value === 'string'),
    sensitive: true,
  },
  'sink.signingSecret': {
    doc: 'signs every delivery (Standard Webhooks); several secrets, space- or comma-separated, while rotating; sensitive',
    env: 'SINK_SIGNING_SECRET',
    default: null,
    defaultText: '(none: unsigned)',
    expected: 'one or more "whsec_…" secrets, space- or comma-separated',
    coerce: (t) => (t.trim() === '' ? null : t),
    valid: (v) =>
      v === null ||
      typeof v === 'string' ||
      (Array.isArray(v) && v.every((secret) => typeof secret === 'string')),
    sensitive: true,
  },
  'sink.timeout': duration('per attempt', 'SINK_TIMEOUT', '10s'),
  'sink.maxAttempts': positiveInt(
    'attempts before the message goes to the dead-letter topic',
    'SINK_MAX_ATTEMPTS',
    5,
  ),
  'sink.backoffBase': duration(
    'first retry delay; doubles each attempt, with jitter',
    'SINK_BACKOFF_BASE',
    '200ms',
  ),
  'sink.backoffMax': duration(
    'longest retry delay, and longest wait between probes of a destination the breaker holds',
    'SINK_BACKOFF_MAX',
    '30s',
  ),
  'sink.breakerRecords': positiveInt(
    'different records that must fail in a row (5xx, 429, timeouts, connection errors, 401/403/404) before the breaker holds every partition and probes; at most the partitions owned, at least 2',
    'SINK_BREAKER_RECORDS',
    3,
  ),
  'dlq.topic': {
    doc: 'dead-letter topic',
    env: 'DLQ_TOPIC',
    default: null,
    defaultText: '`<kafka.topic>.dlq`',
    expected: TOPIC_EXPECTED,
    coerce: (t) => (t.trim() === '' ? null : t.trim()),
    valid: (v) => v === null || (typeof v === 'string' && TOPIC.test(v)),
  },
  'admin.host': text(
    'address the admin server listens on (served by ingest; keep it on loopback)',
    'ADMIN_HOST',
    '127.0.0.1',
  ),
  'admin.port': port(
    'admin API and metrics port, served by ingest (0 = any free port, logged)',
    'ADMIN_PORT',
    8082,
  ),
  'admin.token': {
    doc: 'bearer token of the admin API; sensitive, never logged; without it no admin server',
    env: 'ADMIN_TOKEN',
    default: null,
    defaultText: '(none)',
    expected: 'at least 16 printable characters without spaces',
    sensitive: true,
    coerce: (t) => (t === '' ? null : t),
    valid: (v) => v === null || (typeof v === 'string' && /^[\x21-\x7e]{16,512}$/.test(v)),
  },
  'log.level': oneOf('pino level', 'LOG_LEVEL', 'info', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ]),
} satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof configSchema;

export { type KeySpec, TOPIC } from './config-key-kinds.ts';
