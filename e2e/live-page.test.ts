import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { testBrokers } from '../test-support/kafka.ts';
import { acceptedIds } from './support/client.ts';
import { postBacklog } from './support/load.ts';
import { killAllScripts, repoRoot } from './support/processes.ts';
import { startSteeredGroup } from './support/steered-group.ts';
import { sleep, waitUntil } from './support/wait.ts';

// After each attempt, so that a timing test run once more (vitest.config.ts) starts clean.
afterEach(killAllScripts);

const PERIOD = 1000;
const LIMIT = 20;
/** Fifty periods of work at the limit: the pause lands while most of it still waits. */
const BACKLOG = 1000;
/** The destination fails the first attempt of every FAIL_EVERY-th message: drain retries it. */
const FAIL_EVERY = 10;
/** Debian's chromium, as the design's "facts about these machines" say: no browser download. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

async function numberIn(page: Page, selector: string): Promise<number> {
  return Number(await page.locator(selector).textContent());
}

describe('the live page on the admin port', () => {
  it('refuses a wrong token, charts the deliveries and retries, shows the backlog, pauses the group and replays', async () => {
    const steered = await startSteeredGroup({
      name: 'e2e-page',
      partitions: 3,
      limit: LIMIT,
      periodMs: PERIOD,
      failFirstAttemptEvery: FAIL_EVERY,
    });
    const { destination, ingest, adminPort, token: TOKEN, topic, group } = steered;
    await steered.startWorkers(['a', 'b']);

    const userDataDir = await mkdtemp(join(tmpdir(), 'page-chromium-'));
    const browser: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1100, height: 1200 },
    });
    const kafka = new Kafka({ brokers: testBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const recordsIn = async (name: string) =>
      (await admin.fetchTopicOffsets(name)).reduce((sum, p) => sum + Number(p.high), 0);
    try {
      const page = await browser.newPage();
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      await page.goto(`http://127.0.0.1:${adminPort}/ui`);

      // A wrong token: the page says so and shows nothing.
      await page.fill('#token', `${TOKEN}x`);
      await page.click('#login button');
      await page.locator('#login-error', { hasText: 'Wrong token' }).waitFor();
      expect(await page.locator('#dash').isHidden()).toBe(true);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);

      await page.fill('#token', TOKEN);
      await page.click('#login button');
      await page.locator('#state', { hasText: 'running' }).waitFor({ timeout: 30_000 });
      await page.locator('#workers tr').nth(1).waitFor({ timeout: 60_000 });

      // A bounded bombard: the chart moves, below the limit line.
      const answers = await postBacklog(`http://127.0.0.1:${ingest.port}/`, BACKLOG);
      expect(acceptedIds(answers)).toHaveLength(BACKLOG);
      await waitUntil(
        'the page to show deliveries per second',
        async () => (await numberIn(page, '#delivered-now')) > 0,
        60_000,
        200,
      );
      const pointsBefore = Number(await page.locator('#chart').getAttribute('data-points'));
      await waitUntil(
        'the chart to gain points',
        async () =>
          Number(await page.locator('#chart').getAttribute('data-points')) > pointsBefore + 2,
        30_000,
        200,
      );
      await waitUntil(
        'some of the backlog delivered',
        () => destination.delivered().size >= 60,
        60_000,
      );
      const paths = await page.locator('#partitions .bar').count();
      expect(paths).toBe(3);

      // Pause from the page: deliveries stop at the destination within one period.
      await page.click('#pause');
      await page.locator('#state', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
      const pausedAt = Date.now();
      await sleep(3 * PERIOD);
      const late = destination.arrivals.filter((a) => a.at > pausedAt + PERIOD);
      expect(late).toEqual([]);
      const deliveredWhilePaused = destination.delivered().size;
      expect(deliveredWhilePaused).toBeLessThan(BACKLOG);

      // The figures: deliveries in the window against what the destination counted (one
      // period's worth at most apart), the backlog against the topic's offsets.
      await sleep(2 * PERIOD);
      const shown = await numberIn(page, '#delivered-total');
      console.log(
        `live page: destination counted ${deliveredWhilePaused}, the page shows ${shown} delivered`,
      );
      expect(Math.abs(shown - deliveredWhilePaused)).toBeLessThanOrEqual(LIMIT);
      // Retries: every attempt the destination failed is one the workers retried. Their counts
      // reach the page through the control topic within a second or two of the pause.
      const failed = destination.arrivals.filter((a) => a.status !== 200).length;
      expect(failed).toBeGreaterThan(0);
      await waitUntil(
        `the page's retried count to read ${failed}`,
        async () => (await numberIn(page, '#retried-total')) === failed,
        15_000,
        200,
      );
      console.log(
        `live page: the destination failed ${failed} attempts; the page shows as many retried`,
      );
      const [ends, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      const commits = new Map(
        (committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]),
      );
      const backlog = ends.reduce(
        (sum, e) => sum + Number(e.high) - (commits.get(e.partition) ?? 0),
        0,
      );
      await waitUntil(
        `the page's backlog to read ${backlog}`,
        async () => (await numberIn(page, '#backlog')) === backlog,
        10_000,
        200,
      );
      expect(backlog).toBe(BACKLOG - deliveredWhilePaused);

      // A rejected change shows the server's message and changes nothing.
      const version = await numberIn(page, '#version');
      await page.fill('#rate-messages', '5');
      await page.fill('#rate-burst', '9');
      await page.click('#set-rate');
      await page.locator('#action-error', { hasText: 'burst' }).waitFor({ timeout: 10_000 });
      await sleep(1500);
      expect(await numberIn(page, '#version')).toBe(version);

      // Replay from the page: a dry-run count first, then, confirmed, the move.
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: `${topic}.dlq`,
        acks: -1,
        messages: [
          {
            value: '{"replayed":true}',
            headers: {
              id: 'page-replay-1',
              'content-type': 'application/json',
              'received-at': String(Date.now()),
              'x-dlq-reason': 'status',
              'x-dlq-status': '422',
              'x-dlq-attempts': '1',
            },
          },
        ],
      });
      await producer.disconnect();
      await page.locator('#dlq-depth', { hasText: '1' }).waitFor({ timeout: 10_000 });
      const endsBefore = await recordsIn(topic);
      await page.click('#replay');
      await page.locator('#replay-count', { hasText: '1' }).waitFor({ timeout: 60_000 });
      expect(await recordsIn(topic)).toBe(endsBefore);
      await page.click('#replay-go');
      await page.locator('#replay-result', { hasText: 'Moved 1' }).waitFor({ timeout: 60_000 });
      expect(await recordsIn(topic)).toBe(endsBefore + 1);
      expect(await page.locator('#replay-error').textContent()).toBe('');

      await mkdir(join(repoRoot, 'reports'), { recursive: true });
      await page.screenshot({ path: join(repoRoot, 'reports', 'live-page.png'), fullPage: true });

      // The token never travels in a URL.
      expect(requested.filter((url) => url.includes(TOKEN))).toEqual([]);

      // The admin API gone: a banner instead of stale numbers.
      expect((await ingest.stop()).code).toBe(0);
      await page.locator('#banner', { hasText: 'cannot be reached' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#dash').isHidden()).toBe(true);
    } finally {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
      await admin.disconnect();
      await steered.stop();
    }
  }, 300_000);
});
