import { describe, expect, it } from 'vitest';
import { spawnWorker } from './support/worker-process.ts';

const cases: { name: string; env: Record<string, string>; key: string }[] = [
  { name: 'an http sink without SINK_URL', env: { SINK: 'http' }, key: 'sink.url' },
  { name: 'a rate of zero', env: { RATE_MESSAGES: '0' }, key: 'rate.messages' },
  { name: 'a negative rate', env: { RATE_MESSAGES: '-3' }, key: 'rate.messages' },
  { name: 'a zero period', env: { RATE_PERIOD: '0' }, key: 'rate.period' },
  {
    name: 'a burst above the rate',
    env: { RATE_MESSAGES: '5', RATE_BURST: '10' },
    key: 'rate.burst',
  },
];

describe('pnpm drain with a bad configuration', () => {
  it.each(cases)('refuses $name at start, exit code 2, naming $key', async ({ env, key }) => {
    // Nothing listens on port 1: had the worker started, it would be retrying Kafka, not exiting.
    const worker = spawnWorker('bad-config', { KAFKA_BROKERS: '127.0.0.1:1', ...env });
    const timer = setTimeout(() => worker.signal('SIGKILL'), 30_000);
    const code = await worker.exited;
    clearTimeout(timer);
    expect(code).toBe(2);
    expect(worker.stderr()).toContain(key);
    expect(worker.lines.filter((l) => l.msg === 'drain worker listening')).toEqual([]);
  });
});
