import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../scripts/kafka/broker.ts';
import { post } from './support/client.ts';
import { killAllScripts, runScript, type ScriptProcess } from './support/processes.ts';
import { waitUntil } from './support/wait.ts';

let dir: string | undefined;
const pidsSeen = new Set<number>();

afterAll(async () => {
  await killAllScripts();
  // Whatever a failed run left behind, by the pids it printed (detached, so not in pnpm's group).
  for (const pid of pidsSeen) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

const DELIVERED = /^\[drain\]\s+delivered #\d+ p\d+@\d+ (\{.*\})$/;

/** The numbers of the {"number": n} bodies the run printed as delivered. */
function deliveredNumbers(run: ScriptProcess): number[] {
  return run.lines.flatMap((line) => {
    const match = DELIVERED.exec(line);
    return match ? [(JSON.parse(match[1] as string) as { number: number }).number] : [];
  });
}

/** The pids `pnpm start` printed for the broker, ingest and drain. */
function printedPids(run: ScriptProcess): number[] {
  return run.lines.flatMap((line) => {
    const match = /^\[(?:kafka|start)\]\s+.*\(pid (\d+)\)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

describe('pnpm start from a clean checkout', () => {
  it('shows deliveries, stops everything on Ctrl-C, and the next start resumes the backlog', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-e2e-start-'));
    const env = {
      // No KAFKA_BROKERS: pnpm start runs its own broker, here in a fresh folder on free ports.
      KAFKA_BROKERS: undefined,
      KAFKA_LOCAL_DIR: dir,
      KAFKA_LOCAL_PORT: String(await freePort()),
      KAFKA_LOCAL_CONTROLLER_PORT: String(await freePort()),
      INGEST_PORT: String(await freePort()),
      INGEST_HOST: '127.0.0.1',
      DRAIN_PORT: String(await freePort()),
      DRAIN_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_MESSAGES: '1',
      RATE_PERIOD: '1s',
      NO_COLOR: '1',
    };
    const url = `http://127.0.0.1:${env.INGEST_PORT}/`;

    const first = await startAndWait(env, 'start-1');
    for (let n = 1; n <= 6; n++) {
      expect(await post(url, { number: n })).toMatchObject({ kind: 'answer', status: 202 });
    }
    await waitUntil('two deliveries printed', () => deliveredNumbers(first).length >= 2, 60_000);
    await ctrlC(first);
    await expectAllGone(first);
    const firstNumbers = deliveredNumbers(first);
    expect(firstNumbers.length).toBeLessThan(6);

    const second = await startAndWait(env, 'start-2');
    await waitUntil(
      'the rest of the backlog printed',
      () => new Set([...firstNumbers, ...deliveredNumbers(second)]).size === 6,
      60_000,
    );
    await ctrlC(second);
    await expectAllGone(second);
    console.log(
      `pnpm start: first run delivered ${JSON.stringify(firstNumbers)}, second run ${JSON.stringify(deliveredNumbers(second))}; pids gone: ${[...pidsSeen].join(', ')}`,
    );
  }, 300_000);
});

async function startAndWait(env: Record<string, string | undefined>, name: string) {
  const run = runScript(name, 'start', [], env);
  await run.waitForLine(
    'ingest listening',
    (l) => /^\[ingest\].*ingest listening/.test(l),
    120_000,
  );
  await run.waitForLine('drain listening', (l) => /^\[drain\].*listening/.test(l), 120_000);
  await run.waitForLine(
    'the ready line',
    (l) => /^\[start\]\s+ready: POST JSON to/.test(l),
    120_000,
  );
  for (const pid of printedPids(run)) pidsSeen.add(pid);
  expect(printedPids(run).length).toBeGreaterThanOrEqual(3);
  return run;
}

/**
 * What a terminal's Ctrl-C does: SIGINT to the whole foreground process group. pnpm then ends
 * by that signal, as programs do on Ctrl-C; start.ts says how its own stop went.
 */
async function ctrlC(run: ScriptProcess): Promise<void> {
  const exit = await run.signal('SIGINT');
  expect([0, 'SIGINT']).toContain(exit.code ?? exit.signal);
  expect(run.lines.at(-1), run.lines.slice(-20).join('\n')).toBe('[start]  all stopped cleanly');
}

async function expectAllGone(run: ScriptProcess): Promise<void> {
  const pids = printedPids(run);
  await waitUntil(`pids ${pids.join(', ')} gone`, () => pids.every((pid) => !isAlive(pid)), 30_000);
  expect(run.lines).toContain('[kafka]  Kafka stopped');
}
