import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../../test-support/kafka.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { type ControlFollower, createControlFollower } from '../src/control/control-follower.ts';
import {
  type ControlState,
  controlTopicName,
  type DesiredState,
} from '../src/control/control-state.ts';
import { type ControlWriter, createControlWriter } from '../src/control/control-writer.ts';
import { configuredTopics, ensureTopics } from '../src/kafka.ts';
import { createLogger } from '../src/logger.ts';

const kafka = testKafka('control-test');
const admin = kafka.admin();
const logger = createLogger({ level: 'silent', name: 'control-test' });
const closers: (() => Promise<unknown>)[] = [];

beforeAll(() => admin.connect());
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await admin.disconnect();
});

async function setUp(): Promise<{ config: ReturnType<typeof loadConfig>; topic: string }> {
  const topic = uniqueName('control');
  const config = loadConfig({
    env: { KAFKA_TOPIC: topic, RATE_MESSAGES: '20', RATE_PERIOD: '1s', RATE_BURST: '4' },
  });
  await ensureTopics(admin, configuredTopics(config));
  return { config, topic };
}

function follower(config: ReturnType<typeof loadConfig>): ControlFollower {
  const created = createControlFollower({
    kafka,
    config,
    logger,
    clock: systemClock,
    role: 'test',
  });
  closers.push(() => created.stop());
  return created;
}

function writer(topic: string, view: ControlFollower): ControlWriter {
  const created = createControlWriter({
    kafka,
    topic,
    follower: view,
    clock: systemClock,
    by: 'test-writer',
  });
  closers.push(() => created.close());
  return created;
}

async function endOffset(topic: string): Promise<string | undefined> {
  return (await admin.fetchTopicOffsets(controlTopicName(topic)))[0]?.high;
}

describe('control topic', () => {
  it('is created compacted with one partition alongside the other topics', async () => {
    const { topic } = await setUp();
    const name = controlTopicName(topic);
    const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
    expect(topics[0]?.partitions).toHaveLength(1);
    const described = await admin.describeConfigs({
      resources: [{ type: 2, name, configNames: ['cleanup.policy'] }],
      includeSynonyms: false,
    });
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('compact');
  });

  it('gives the configured state while the topic holds none', async () => {
    const { config } = await setUp();
    const view = follower(config);
    await view.start();
    expect(view.ready).toBe(true);
    expect(view.current()).toMatchObject({
      source: 'config',
      desired: { paused: false, version: 0, rate: { messages: 20, periodMs: 1000, burst: 4 } },
      hold: undefined,
    });
  });

  it('applies every change in every follower, and a late follower starts from the latest', async () => {
    const { config, topic } = await setUp();
    const first = follower(config);
    await first.start();
    const seen: ControlState[] = [];
    first.onChange((state) => seen.push(state));
    const write = writer(topic, first);

    const paused = await write.change({
      reason: 'test pause',
      apply: (d) => ({ ...d, paused: true }),
    });
    expect(paused.written).toBe(true);
    expect(paused.state.desired).toMatchObject({ paused: true, version: 1, reason: 'test pause' });
    const slower = await write.change({
      expectedVersion: 1,
      reason: 'slower',
      apply: (d) => ({ ...d, rate: { messages: 5, periodMs: 1000, burst: 1 } }),
    });
    expect(slower.state.desired).toMatchObject({ paused: true, version: 2 });
    // The rate before a change travels with it, so a worker starting before the switch knows it.
    expect(paused.state.desired.previous).toBeUndefined();
    expect(slower.state.desired.previous).toEqual({
      rate: paused.state.desired.rate,
      changedAt: slower.state.desired.changedAt,
    });
    expect(seen.map((s) => s.desired.version)).toEqual([1, 2]);

    const late = follower(config);
    const lateSeen: number[] = [];
    late.onChange((state) => lateSeen.push(state.desired.version));
    await late.start();
    expect(late.current().source).toBe('topic');
    expect(late.current().desired).toEqual(first.current().desired);
    expect(lateSeen.at(-1)).toBe(2);
  });

  it('refuses a stale version and writes nothing, and writes nothing for a change to the same state', async () => {
    const { config, topic } = await setUp();
    const view = follower(config);
    await view.start();
    const write = writer(topic, view);
    await write.change({ reason: 'pause', apply: (d) => ({ ...d, paused: true }) });
    const before = await endOffset(topic);

    await expect(
      write.change({
        expectedVersion: 0,
        reason: 'stale',
        apply: (d) => ({ ...d, paused: false }),
      }),
    ).rejects.toMatchObject({ code: 'version_conflict' });
    const again = await write.change({
      reason: 'pause again',
      apply: (d) => ({ ...d, paused: true }),
    });
    expect(again.written).toBe(false);
    expect(await endOffset(topic)).toBe(before);
    expect(view.current().desired).toMatchObject({ paused: true, version: 1 });
  });

  it('refuses a second rate change until the first has settled, and writes nothing for it', async () => {
    const { config, topic } = await setUp();
    const view = follower(config);
    await view.start();
    // The writer's clock, moved on by hand: a switch is up to two periods after its change.
    let aheadMs = 0;
    const clock = { ...systemClock, now: () => systemClock.now() + aheadMs };
    const write = createControlWriter({ kafka, topic, follower: view, clock, by: 'test-writer' });
    closers.push(() => write.close());
    const rate = (messages: number) => (d: DesiredState) => ({
      ...d,
      rate: { messages, periodMs: 1000, burst: 1 },
    });

    await write.change({ reason: 'slower', apply: rate(5) });
    const before = await endOffset(topic);
    await expect(write.change({ reason: 'too soon', apply: rate(40) })).rejects.toMatchObject({
      code: 'rate_change_pending',
    });
    expect(await endOffset(topic)).toBe(before);
    // Pausing is no rate change: it goes through, and keeps the pending switch's record.
    const paused = await write.change({ reason: 'pause', apply: (d) => ({ ...d, paused: true }) });
    expect(paused.written).toBe(true);
    expect(paused.state.desired.previous?.rate.messages).toBe(20);

    aheadMs = 3000;
    const faster = await write.change({ reason: 'settled', apply: rate(40) });
    expect(faster.state.desired).toMatchObject({ version: 3, rate: { messages: 40 } });
  });

  it('keeps a hold and a pause apart: neither overwrites the other', async () => {
    const { config, topic } = await setUp();
    const view = follower(config);
    await view.start();
    const operator = writer(topic, view);
    const worker = writer(topic, view);
    const until = Date.now() + 3000;
    await Promise.all([
      operator.change({ reason: 'pause', apply: (d) => ({ ...d, paused: true }) }),
      worker.hold(until, 'destination answered 429 with Retry-After: 3'),
    ]);
    expect(await worker.hold(until - 1000, 'shorter')).toBe(false);
    const fresh = follower(config);
    await fresh.start();
    expect(fresh.current().desired.paused).toBe(true);
    expect(fresh.current().hold).toMatchObject({ until, by: 'test-writer' });
  });

  it('never lets a later, shorter hold cut one in force (two workers writing at once)', async () => {
    const { config, topic } = await setUp();
    const view = follower(config);
    await view.start();
    const until = Date.now() + 3000;
    await writer(topic, view).hold(until, 'destination answered 429 with Retry-After: 3');
    // Another worker that had not read the first hold yet: its shorter one lands after it.
    const racer = kafka.producer();
    await racer.connect();
    closers.push(() => racer.disconnect());
    const shorter = { until: until - 2500, changedAt: Date.now(), reason: 'breaker', by: 'racer' };
    await racer.send({
      topic: controlTopicName(topic),
      messages: [{ key: 'hold', value: JSON.stringify(shorter) }],
    });
    await view.caughtUp();
    expect(view.current().hold).toMatchObject({ until, by: 'test-writer' });
    const fresh = follower(config);
    await fresh.start();
    expect(fresh.current().hold).toMatchObject({ until, by: 'test-writer' });
  });
});
