import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configDir, problemsOf } from '../test/support/config-fixtures.ts';
import { loadConfig } from './config.ts';

describe('loadConfig defaults', () => {
  it('gives the documented defaults with nothing set', () => {
    const config = loadConfig({ configDir: configDir() });
    expect(config).toEqual({
      kafka: {
        brokers: ['localhost:9092'],
        clientId: 'kafka-throttle',
        topic: 'throttled_topic',
        partitions: 6,
        replicationFactor: 1,
      },
      ingest: {
        host: '0.0.0.0',
        port: 8080,
        maxBodyBytes: 524288,
        ackTimeout: 5000,
        linger: 2,
        maxBatchMessages: 500,
        maxBatchBytes: 1_000_000,
        headersTimeout: 10_000,
        requestTimeout: 30_000,
        maxConnections: 4096,
        idempotencyWindow: 600_000,
        idempotencyMaxKeys: 50_000,
        shutdownTimeout: 10_000,
        workers: 'auto',
      },
      drain: { group: 'throttle-drain', host: '0.0.0.0', port: 8081, shutdownTimeout: 8000 },
      rate: { messages: 5, period: 5000, burst: 5, margin: 10 },
      sink: {
        type: 'log',
        url: undefined,
        headers: {},
        signingSecret: [],
        timeout: 10_000,
        maxAttempts: 5,
        backoffBase: 200,
        backoffMax: 30_000,
        breakerRecords: 3,
      },
      dlq: { topic: 'throttled_topic.dlq' },
      admin: { host: '127.0.0.1', port: 8082, token: undefined },
      log: { level: 'info' },
    });
  });

  it('derives the burst from rate.messages and the DLQ name from kafka.topic', () => {
    const config = loadConfig({
      configDir: configDir(),
      env: { RATE_MESSAGES: '12', KAFKA_TOPIC: 'orders' },
    });
    expect(config.rate.burst).toBe(12);
    expect(config.dlq.topic).toBe('orders.dlq');
  });
});

describe('loadConfig sources and precedence', () => {
  const dir = configDir({
    'default.json': { rate: { messages: 10, period: '10s' }, kafka: { topic: 'from-default' } },
    'staging.json': { rate: { messages: 20 }, kafka: { topic: 'from-staging' } },
  });
  const extra = join(configDir({ 'extra.json': { rate: { messages: 30 } } }), 'extra.json');

  it('reads config/default.json', () => {
    const config = loadConfig({ configDir: dir });
    expect(config.rate).toMatchObject({ messages: 10, period: 10_000 });
    expect(config.kafka.topic).toBe('from-default');
  });

  it('lets config/<NODE_ENV>.json win over default.json', () => {
    const config = loadConfig({ configDir: dir, env: { NODE_ENV: 'staging' } });
    expect(config.rate.messages).toBe(20);
    expect(config.rate.period).toBe(10_000);
    expect(config.kafka.topic).toBe('from-staging');
  });

  it('lets the CONFIG_FILE win over the NODE_ENV file', () => {
    const config = loadConfig({ configDir: dir, env: { NODE_ENV: 'staging', CONFIG_FILE: extra } });
    expect(config.rate.messages).toBe(30);
    expect(config.kafka.topic).toBe('from-staging');
  });

  it('lets environment variables win over every file', () => {
    const config = loadConfig({
      configDir: dir,
      env: { NODE_ENV: 'staging', CONFIG_FILE: extra, RATE_MESSAGES: '40' },
    });
    expect(config.rate.messages).toBe(40);
  });

  it('lets --key=value arguments win over environment variables', () => {
    const config = loadConfig({
      configDir: dir,
      env: { RATE_MESSAGES: '40' },
      args: ['--rate.messages=50', '--kafka.topic=from-args'],
    });
    expect(config.rate.messages).toBe(50);
    expect(config.kafka.topic).toBe('from-args');
  });

  it('ignores a missing NODE_ENV file but refuses a missing CONFIG_FILE', () => {
    expect(loadConfig({ configDir: dir, env: { NODE_ENV: 'nowhere' } }).rate.messages).toBe(10);
    expect(
      problemsOf(() => loadConfig({ configDir: dir, env: { CONFIG_FILE: '/no/such.json' } })),
    ).toEqual(['CONFIG_FILE: no such file, got "/no/such.json"']);
  });

  it('refuses a config file that is not JSON, naming the file', () => {
    const broken = configDir({ 'default.json': '{ "rate": ' });
    const [problem] = problemsOf(() => loadConfig({ configDir: broken }));
    expect(problem).toContain(join(broken, 'default.json'));
    expect(problem).toContain('not valid JSON');
  });
});

// What a refusal says each format expects, as several keys share them.
