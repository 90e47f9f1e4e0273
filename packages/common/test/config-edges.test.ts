import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

/** The problem lines of a configuration that must be refused. */
function problems(env: Record<string, string>, configDir?: string): readonly string[] {
  try {
    loadConfig({ env, ...(configDir ? { configDir } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('configuration edges a probe found', () => {
  it('refuses an integer beyond what a number holds exactly, instead of rounding it', () => {
    expect(problems({ RATE_MESSAGES: '9007199254740993' })).toEqual([
      'rate.messages: must be a positive integer, got "9007199254740993"',
    ]);
    expect(loadConfig({ env: { RATE_MESSAGES: '9007199254740991' } }).rate.messages).toBe(
      9007199254740991,
    );
  });

  it.each(['.', '..'])('refuses the topic name %s, which Kafka refuses', (topic) => {
    expect(problems({ KAFKA_TOPIC: topic })[0]).toMatch(/^kafka\.topic: must be a topic name/);
  });

  it('refuses a topic name whose dead-letter topic would be too long for Kafka', () => {
    expect(problems({ KAFKA_TOPIC: 't'.repeat(249) })[0]).toMatch(/^kafka\.topic: must leave room/);
    expect(problems({ DLQ_TOPIC: '..' })[0]).toMatch(/^dlq\.topic: must be a topic name/);
  });

  it.each(['localhost:99999', 'localhost:0', 'localhost:65536'])(
    'refuses the broker %s, whose port does not exist',
    (broker) => {
      expect(problems({ KAFKA_BROKERS: `a:9092,${broker}` })[0]).toMatch(
        /^kafka\.brokers: must be comma-separated host:port pairs \(port 1 to 65535\)/,
      );
    },
  );

  it('loads no file outside the configuration folder through NODE_ENV', () => {
    const outside = mkdtempSync(join(tmpdir(), 'node-env-'));
    const configDir = mkdtempSync(join(tmpdir(), 'config-dir-'));
    writeFileSync(join(outside, 'x.json'), '{"rate":{"messages":77}}');
    writeFileSync(join(configDir, 'default.json'), '{}');
    const relative = join('..', outside.split('/').pop() as string, 'x');
    expect(problems({ NODE_ENV: relative }, configDir)).toEqual([
      `NODE_ENV: must be a name of letters, digits, "-" or "_" (a file in config/), got ${JSON.stringify(relative)}`,
    ]);
    writeFileSync(join(configDir, 'staging.json'), '{"rate":{"messages":77}}');
    expect(loadConfig({ env: { NODE_ENV: 'staging' }, configDir }).rate.messages).toBe(77);
  });
});
