import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../../test-support/cluster.ts';
import { uniqueName } from '../../test-support/kafka.ts';
import { rateWindows, timesText } from '../../test-support/window-check.ts';
import { acceptedIds } from '../support/client.ts';
import {
  busiestLeader,
  clusterAdmin,
  committedOffsets,
  groupCoordinator,
  readThroughFailover,
  unavailableSpanMs,
  waitInSync,
} from '../support/cluster.ts';
import { waitForDeliveries } from '../support/deliveries.ts';
import { type Arrival, type Destination, startDestination } from '../support/destination.ts';
import { answerCounts, type Load, startLoad } from '../support/load.ts';
import { killAllScripts } from '../support/processes.ts';
import { type Service, startService } from '../support/services.ts';
import { sleep, waitUntil } from '../support/wait.ts';

/**
 * Brokers of a three-node cluster (replication 3, min.insync.replicas 2) die or restart while
 * ingest takes a steady load and three drain workers deliver to a recording destination. One
 * cluster serves the three tests, each with its own topic and group; every test leaves all
 * three nodes running.
 */

// The load (two clients, a pause of 100 ms) is a little above the rate, so a backlog builds and
// the workers deliver at the rate: the promise is checked where it is hardest to keep.
const RATE = { messages: 10, periodMs: 1000 };

let cluster: TestCluster;
let admin: Admin;

beforeAll(async () => {
  cluster = await startTestCluster(3);
  admin = clusterAdmin(cluster.bootstrap);
  await admin.connect();
}, 300_000);

afterAll(async () => {
  await killAllScripts();
  await admin?.disconnect();
  await cluster?.close();
});

interface Pipeline {
  topic: string;
  group: string;
  destination: Destination;
  ingest: Service;
  drains: Service[];
  load: Load;
}

async function startPipeline(name: string): Promise<Pipeline> {
  const destination = await startDestination();
  const topic = uniqueName(`e2e-${name}`);
  const group = uniqueName(`e2e-${name}-group`);
  const env = {
    KAFKA_BROKERS: cluster.bootstrap,
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: '6',
    DRAIN_GROUP: group,
    RATE_MESSAGES: String(RATE.messages),
    RATE_PERIOD: `${RATE.periodMs}ms`,
    INGEST_ACK_TIMEOUT: '5s',
    SINK: 'http',
    SINK_URL: destination.url,
  };
  const ingest = await startService('ingest', env);
  const drains: Service[] = [];
  // Debug level: each worker logs an `attempt` line with its exact start time.
  for (let i = 1; i <= 3; i++) {
    drains.push(await startService('drain', { ...env, LOG_LEVEL: 'debug' }, `drain-${i}`));
  }
  const url = `http://127.0.0.1:${ingest.port}/`;
  const load = startLoad(() => url, { clients: 2, pauseMs: 100, timeoutMs: 30_000 });
  await waitUntil('30 requests accepted', () => load.accepted() >= 30, 120_000);
  return { topic, group, destination, ingest, drains, load };
}

/** Stops the load, waits for every 202 at the destination, checks the answers and the rate. */
async function finish(
  p: Pipeline,
  label: string,
): Promise<{ accepted: number; duplicates: number }> {
  const acceptedBefore = p.load.accepted();
  await waitUntil(
    '20 more requests accepted at the end',
    () => p.load.accepted() >= acceptedBefore + 20,
    120_000,
  );
  await p.load.stop();
  const accepted = acceptedIds(p.load.answers);
  await waitForDeliveries(
    `all ${accepted.length} accepted requests delivered`,
    p.destination,
    () => accepted.every((id) => p.destination.ids().has(id)),
    [p.ingest, ...p.drains],
    240_000,
  );
  const counts = answerCounts(p.load.answers);
  const attempts = loggedAttempts(p.drains);
  const startWindows = rateWindows(
    attempts.map((a) => a.startedAt),
    RATE.messages,
    RATE.periodMs,
  );
  const arrivalWindows = rateWindows(
    p.destination.arrivals.map((a) => a.at),
    RATE.messages,
    RATE.periodMs,
  );
  const transit = transitMs(attempts, p.destination.arrivals);
  console.log(
    `${label}: answers ${JSON.stringify(counts)}; ${accepted.length} accepted, all delivered; ${p.destination.arrivals.length} deliveries, ${p.destination.duplicates()} duplicates; tightest window of ${RATE.messages + 1} starts ${startWindows.tightestMs?.toFixed(1)} ms over ${attempts.length} attempts (promise: >= ${RATE.periodMs} ms); of ${RATE.messages + 1} arrivals ${arrivalWindows.tightestMs?.toFixed(1)} ms, start to arrival p50 ${transit.p50.toFixed(1)} ms, p99 ${transit.p99.toFixed(1)} ms, max ${transit.max.toFixed(1)} ms`,
  );
  expect(Object.keys(counts).filter((k) => k !== '202' && k !== '503')).toEqual([]);
  // Every arrival had its start logged, so the check below sees every attempt.
  expect(transit.unmatched).toBe(0);
  // The promise is checked on the workers' start times, which are exact. Arrivals are printed,
  // not checked: three JVMs on a two-core machine stall the recording destination for up to
  // 200 ms, far beyond the 15 ms guard, and requests from three workers started 70 ms apart
  // are then stamped within 2 ms of each other (the rate tests on one broker check arrivals).
  expect(
    startWindows.violations,
    timesText(
      attempts.map((a) => a.startedAt),
      'starts',
    ),
  ).toEqual([]);
  for (const service of [p.ingest, ...p.drains]) expect(service.exit).toBeUndefined();
  for (const drain of p.drains) expect((await drain.stop()).code).toBe(0);
  expect((await p.ingest.stop()).code).toBe(0);
  await p.destination.close();
  return { accepted: accepted.length, duplicates: p.destination.duplicates() };
}

describe('a three-broker cluster under load', () => {
  it('survives SIGKILL of the broker leading the most partitions: 202 or 503 only, every 202 delivered, the rate held', async () => {
    const p = await startPipeline('kill-leader');
    const victim = await busiestLeader(admin, p.topic);
    const answersAtKill = p.load.answers.length;
    const killedAt = Date.now();
    await cluster.kill(victim);
    const acceptedAtKill = p.load.accepted();
    await waitUntil(
      '20 requests accepted with the broker dead',
      () => p.load.accepted() >= acceptedAtKill + 20,
      120_000,
    );
    const withoutIt = answerCounts(p.load.answers.slice(answersAtKill));
    const unavailable = unavailableSpanMs(p.load.answers, p.load.answeredAt, answersAtKill);
    await sleep(3000);

    const restartAt = Date.now();
    await cluster.restart(victim);
    await waitInSync(admin, [p.topic, `${p.topic}.dlq`], victim, 180_000);
    const rejoinMs = Date.now() - restartAt;
    const { duplicates } = await finish(p, 'leader killed');
    console.log(
      `leader killed: node ${victim} (led the most partitions) killed ${restartAt - killedAt} ms before its restart; answers while it was dead ${JSON.stringify(withoutIt)}; 503s: ${unavailable.count} over ${unavailable.spanMs} ms; back in sync ${rejoinMs} ms after the restart; ${duplicates} duplicates`,
    );
  }, 900_000);

  it('keeps every accepted request through a rolling restart of all three brokers', async () => {
    const p = await startPipeline('rolling');
    const steps: string[] = [];
    for (const node of cluster.nodes.map((n) => n.id)) {
      const before = p.load.accepted();
      const stoppedAt = Date.now();
      await cluster.stopNode(node);
      await waitUntil(
        `10 requests accepted while node ${node} is down`,
        () => p.load.accepted() >= before + 10,
        120_000,
      );
      await cluster.restart(node);
      await waitInSync(admin, [p.topic, `${p.topic}.dlq`, '__consumer_offsets'], node, 180_000);
      steps.push(`node ${node} down and back in sync in ${Date.now() - stoppedAt} ms`);
    }
    const unavailable = unavailableSpanMs(p.load.answers, p.load.answeredAt);
    const { accepted, duplicates } = await finish(p, 'rolling restart');
    console.log(
      `rolling restart: ${steps.join('; ')}; 503s: ${unavailable.count} over ${unavailable.spanMs} ms; ${accepted} accepted, ${duplicates} duplicates`,
    );
    // The README allows a redelivery only of what was in flight when a worker lost a partition
    // or a commit: at most one period's worth of the group's deliveries per restarted node.
    expect(duplicates).toBeLessThanOrEqual(cluster.nodes.length * RATE.messages);
  }, 900_000);

  it('keeps going when the group coordinator dies: the workers find the new one and the committed offsets stay', async () => {
    const p = await startPipeline('coordinator');
    await waitUntil(
      'the group has committed offsets',
      async () =>
        [...(await committedOffsets(admin, p.group, p.topic)).values()].some((o) => o > 0n),
      120_000,
      500,
    );
    const coordinator = await groupCoordinator(admin, p.group);
    const before = await committedOffsets(admin, p.group, p.topic);
    const deliveredAtKill = p.destination.arrivals.length;
    await cluster.kill(coordinator);
    // Read after the election: right after the kill the metadata still names the dead node.
    const newCoordinator = await readThroughFailover(
      'a new coordinator for the group',
      () => groupCoordinator(admin, p.group),
      120_000,
      (node) => node !== coordinator,
    );
    await waitForDeliveries(
      '30 more deliveries after the coordinator died',
      p.destination,
      () => p.destination.arrivals.length >= deliveredAtKill + 30,
      [p.ingest, ...p.drains],
      180_000,
    );
    const after = await readThroughFailover(
      'the committed offsets from the new coordinator',
      () => committedOffsets(admin, p.group, p.topic),
      120_000,
    );
    await cluster.restart(coordinator);
    await waitInSync(admin, [p.topic, '__consumer_offsets'], coordinator, 180_000);
    const { duplicates } = await finish(p, 'coordinator killed');
    console.log(
      `coordinator killed: node ${coordinator} -> node ${newCoordinator}; committed before ${offsetsText(before)}, after ${offsetsText(after)}; ${duplicates} duplicates`,
    );
    for (const [partition, offset] of before) {
      expect(after.get(partition) ?? -1n, `partition ${partition}`).toBeGreaterThanOrEqual(offset);
    }
  }, 900_000);
});

interface LoggedAttempt {
  id: string;
  attempt: number;
  startedAt: number;
}

/** The attempts the workers logged at debug level, with their exact start times (epoch ms). */
function loggedAttempts(drains: readonly Service[]): LoggedAttempt[] {
  return drains.flatMap((d) =>
    d.entries
      .filter((e) => e.msg === 'attempt')
      .map((e) => ({
        id: String(e.id),
        attempt: Number(e.attempt),
        startedAt: Number(e.startedAt),
      })),
  );
}

/**
 * How long each arrival took from its start: the jitter the rate guard has to cover. A record
 * redelivered after a rebalance starts again under the same id and attempt, so an arrival is
 * matched with the latest such start before it.
 */
function transitMs(
  attempts: readonly LoggedAttempt[],
  arrivals: readonly Arrival[],
): { p50: number; p99: number; max: number; unmatched: number } {
  const startsOf = new Map<string, number[]>();
  for (const a of attempts) {
    const key = `${a.id}:${a.attempt}`;
    startsOf.set(key, [...(startsOf.get(key) ?? []), a.startedAt]);
  }
  const delays: number[] = [];
  let unmatched = 0;
  for (const arrival of arrivals) {
    const before = (startsOf.get(`${arrival.id}:${arrival.attempt}`) ?? []).filter(
      (t) => t <= arrival.at,
    );
    if (before.length === 0) unmatched += 1;
    else delays.push(arrival.at - Math.max(...before));
  }
  delays.sort((a, b) => a - b);
  const at = (q: number): number =>
    delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: delays.at(-1) ?? 0, unmatched };
}

function offsetsText(offsets: Map<number, bigint>): string {
  return [...offsets].map(([partition, offset]) => `${partition}:${offset}`).join(' ');
}
