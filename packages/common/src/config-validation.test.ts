import { describe, expect, it } from 'vitest';
import { configDir, problemsOf } from '../test/support/config-fixtures.ts';
import { loadConfig } from './config.ts';
import { configSchema } from './config-schema.ts';

const DURATION = 'must be a positive duration such as "250ms", "5s", "1m" or milliseconds';
const INTEGER = 'must be a positive integer';
const TOPIC = 'must be a topic name of letters, digits, ".", "_" or "-"';
const BROKERS = 'must be comma-separated host:port pairs (port 1 to 65535)';
const NON_EMPTY = 'must be a non-empty string';
const PORT = 'must be a port number from 0 to 65535';

describe('loadConfig validation', () => {
  const dir = configDir();
  const refuse = (env: Record<string, string>, args: string[] = []) =>
    problemsOf(() => loadConfig({ configDir: dir, env, args }));

  it('prints the key, the value and what was expected', () => {
    expect(refuse({ RATE_MESSAGES: 'abc' })).toEqual([
      'rate.messages: must be a positive integer, got "abc"',
    ]);
  });

  it('lists every bad key at once', () => {
    expect(refuse({ RATE_MESSAGES: '0', INGEST_PORT: '70000' })).toEqual([
      'ingest.port: must be a port number from 0 to 65535, got 70000',
      'rate.messages: must be a positive integer, got 0',
    ]);
  });

  it.each([
    ['KAFKA_BROKERS', 'localhost', `kafka.brokers: ${BROKERS}, got ["localhost"]`],
    ['KAFKA_BROKERS', ' , ', `kafka.brokers: ${BROKERS}, got []`],
    ['KAFKA_CLIENT_ID', '', `kafka.clientId: ${NON_EMPTY}, got ""`],
    ['KAFKA_TOPIC', 'bad topic!', `kafka.topic: ${TOPIC}, got "bad topic!"`],
    ['KAFKA_PARTITIONS', '-1', `kafka.partitions: ${INTEGER}, got -1`],
    ['KAFKA_REPLICATION_FACTOR', '1.5', `kafka.replicationFactor: ${INTEGER}, got "1.5"`],
    ['INGEST_HOST', '', `ingest.host: ${NON_EMPTY}, got ""`],
    ['INGEST_PORT', 'http', `ingest.port: ${PORT}, got "http"`],
    ['INGEST_MAX_BODY_BYTES', '0', `ingest.maxBodyBytes: ${INTEGER}, got 0`],
    ['INGEST_ACK_TIMEOUT', 'soon', `ingest.ackTimeout: ${DURATION}, got "soon"`],
    ['INGEST_ACK_TIMEOUT', '0', `ingest.ackTimeout: ${DURATION}, got 0`],
    [
      'INGEST_LINGER',
      '-5ms',
      'ingest.linger: must be a duration such as "250ms", "5s", "1m" or milliseconds, got "-5ms"',
    ],
    ['INGEST_MAX_BATCH_MESSAGES', 'many', `ingest.maxBatchMessages: ${INTEGER}, got "many"`],
    ['INGEST_MAX_BATCH_BYTES', '0', `ingest.maxBatchBytes: ${INTEGER}, got 0`],
    ['INGEST_SHUTDOWN_TIMEOUT', '0', `ingest.shutdownTimeout: ${DURATION}, got 0`],
    ['INGEST_WORKERS', '0', 'ingest.workers: must be "auto" or an integer from 1 to 64, got 0'],
    ['INGEST_WORKERS', '65', 'ingest.workers: must be "auto" or an integer from 1 to 64, got 65'],
    ['DRAIN_GROUP', '', `drain.group: ${NON_EMPTY}, got ""`],
    ['DRAIN_HOST', '', `drain.host: ${NON_EMPTY}, got ""`],
    ['DRAIN_PORT', '-1', `drain.port: ${PORT}, got -1`],
    [
      'DRAIN_SHUTDOWN_TIMEOUT',
      '10 parsecs',
      `drain.shutdownTimeout: ${DURATION}, got "10 parsecs"`,
    ],
    ['RATE_MESSAGES', '-3', `rate.messages: ${INTEGER}, got -3`],
    ['RATE_PERIOD', '5 sec', `rate.period: ${DURATION}, got "5 sec"`],
    ['RATE_PERIOD', '0ms', `rate.period: ${DURATION}, got 0`],
    [
      'RATE_BURST',
      '0',
      'rate.burst: must be a positive integer no larger than rate.messages, got 0',
    ],
    [
      'RATE_MARGIN',
      'wide',
      'rate.margin: must be a duration such as "250ms", "5s", "1m" or milliseconds, got "wide"',
    ],
    ['SINK', 'kafka', 'sink.type: must be one of "log", "http", got "kafka"'],
    ['SINK_URL', 'ftp://x', 'sink.url: must be an http:// or https:// URL, got "ftp://x"'],
    ['SINK_TIMEOUT', 'never', `sink.timeout: ${DURATION}, got "never"`],
    ['SINK_MAX_ATTEMPTS', '0', `sink.maxAttempts: ${INTEGER}, got 0`],
    ['SINK_BACKOFF_BASE', 'x', `sink.backoffBase: ${DURATION}, got "x"`],
    ['SINK_BACKOFF_MAX', 'y', `sink.backoffMax: ${DURATION}, got "y"`],
    ['DLQ_TOPIC', 'no/slash', `dlq.topic: ${TOPIC}, got "no/slash"`],
    [
      'LOG_LEVEL',
      'loud',
      'log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
    ],
  ])('refuses %s=%j', (name, value, line) => {
    expect(refuse({ [name]: value })).toEqual([line]);
  });

  it('accepts durations in every documented form', () => {
    const forms: [string, number][] = [
      ['250ms', 250],
      ['5s', 5000],
      ['1m', 60_000],
      ['1.5s', 1500],
      ['2h', 7_200_000],
      ['750', 750],
    ];
    for (const [text, ms] of forms) {
      expect(loadConfig({ configDir: dir, env: { RATE_PERIOD: text } }).rate.period).toBe(ms);
    }
  });

  it('accepts plain milliseconds as a number in a config file', () => {
    const fromFile = configDir({ 'default.json': { rate: { period: 1500 } } });
    expect(loadConfig({ configDir: fromFile }).rate.period).toBe(1500);
  });

  it('refuses a burst above the rate', () => {
    expect(refuse({ RATE_MESSAGES: '5', RATE_BURST: '6' })).toEqual([
      'rate.burst: must be a positive integer no larger than rate.messages (5), got 6',
    ]);
  });

  it('guards the rate by 10 ms by default, at most 2% of the period; RATE_MARGIN overrides', () => {
    const margin = (env: Record<string, string>) => loadConfig({ configDir: dir, env }).rate.margin;
    expect(margin({ RATE_PERIOD: '1s' })).toBe(10);
    expect(margin({ RATE_PERIOD: '1m' })).toBe(10);
    expect(margin({ RATE_PERIOD: '250ms' })).toBe(5);
    expect(margin({ RATE_PERIOD: '10ms' })).toBeCloseTo(0.2, 12);
    expect(margin({ RATE_PERIOD: '1s', RATE_MARGIN: '0' })).toBe(0);
    expect(margin({ RATE_PERIOD: '1s', RATE_MARGIN: '' })).toBe(10);
  });

  it('refuses a pacing margin as long as the period', () => {
    expect(refuse({ RATE_PERIOD: '1s', RATE_MARGIN: '1s' })).toEqual([
      'rate.margin: must be shorter than rate.period (1000ms), got 1000',
    ]);
    expect(loadConfig({ configDir: dir, env: { RATE_MARGIN: '20ms' } }).rate.margin).toBe(20);
  });

  it('requires sink.url when sink.type is http', () => {
    expect(refuse({ SINK: 'http' })).toEqual([
      'sink.url: must be an http:// or https:// URL when sink.type is "http", got nothing',
    ]);
    expect(
      loadConfig({ configDir: dir, env: { SINK: 'http', SINK_URL: 'http://127.0.0.1:9000/hook' } })
        .sink,
    ).toMatchObject({ type: 'http', url: 'http://127.0.0.1:9000/hook' });
  });

  it('refuses a dead-letter topic equal to the request topic', () => {
    expect(refuse({ KAFKA_TOPIC: 'same', DLQ_TOPIC: 'same' })).toEqual([
      'dlq.topic: must differ from kafka.topic, got "same"',
    ]);
  });

  it('takes an admin token and never repeats a refused one', () => {
    expect(refuse({ ADMIN_TOKEN: 'short secret' })).toEqual([
      'admin.token: must be at least 16 printable characters without spaces, got a value not shown (sensitive)',
    ]);
    const token = 'x'.repeat(24);
    expect(loadConfig({ configDir: dir, env: { ADMIN_TOKEN: token } }).admin.token).toBe(token);
  });

  it('refuses a backoff ceiling below its base', () => {
    expect(refuse({ SINK_BACKOFF_BASE: '2s', SINK_BACKOFF_MAX: '1s' })).toEqual([
      'sink.backoffMax: must be at least sink.backoffBase (2000ms), got 1000',
    ]);
  });

  it('refuses unknown keys in files and unknown command-line options', () => {
    const withTypo = configDir({ 'default.json': { rate: { mesages: 5 } } });
    expect(problemsOf(() => loadConfig({ configDir: withTypo }))).toEqual([
      'rate.mesages: unknown key, not in the configuration schema',
    ]);
    expect(refuse({}, ['--rate.mesages=5'])).toEqual([
      '--rate.mesages: unknown option, expected one of the configuration keys',
    ]);
  });

  it('parses broker lists with spaces and several hosts', () => {
    const config = loadConfig({ configDir: dir, env: { KAFKA_BROKERS: 'a:9092, b:9093' } });
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9093']);
  });

  it('has an environment variable for every key, each used once', () => {
    const names = Object.values(configSchema).map((spec) => spec.env);
    expect(new Set(names).size).toBe(names.length);
  });
});
