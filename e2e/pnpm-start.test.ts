import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../scripts/kafka/broker.ts';
import { post } from './support/client.ts';
import { killAllScripts, repoRoot, runScript, type ScriptProcess } from './support/processes.ts';
import { waitUntil } from './support/wait.ts';

let dir: string;
let env: Record<string, string | undefined>;
const pidsSeen = new Set<number>();
const pipelines = new Set<ChildProcess>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-e2e-start-'));
  env = {
    // No KAFKA_BROKERS: pnpm start runs its own broker, here in a fresh folder on free ports.
    KAFKA_BROKERS: undefined,
    KAFKA_LOCAL_DIR: dir,
    KAFKA_LOCAL_PORT: String(await freePort()),
    KAFKA_LOCAL_CONTROLLER_PORT: String(await freePort()),
    INGEST_PORT: String(await freePort()),
    INGEST_HOST: '127.0.0.1',
    DRAIN_PORT: String(await freePort()),
    DRAIN_HOST: '127.0.0.1',
    ADMIN_PORT: String(await freePort()),
    ADMIN_HOST: '127.0.0.1',
    ADMIN_TOKEN: undefined,
    LOG_LEVEL: 'info',
    RATE_MESSAGES: '1',
    RATE_PERIOD: '1s',
    NO_COLOR: '1',
  };
});

afterAll(async () => {
  await killAllScripts();
  for (const pipeline of pipelines) signalGroup(pipeline.pid, 'SIGKILL');
  // Whatever a failed run left behind, by the pids it printed (detached, so not in pnpm's group).
  for (const pid of pidsSeen) {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;
const DELIVERED = new RegExp(String.raw`^\[drain\]\s+${TIME} delivered #\d+ p\d+@\d+ (\{.*\})$`);
const PACE = new RegExp(
  String.raw`^\[drain\]\s+${TIME} last 1s: (\d+) delivered \(limit 1\), backlog (\d+), dead letters (\d+)$`,
);

/** The numbers of the {"number": n} bodies the run printed as delivered. */
function deliveredNumbers(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = DELIVERED.exec(line);
    return match ? [(JSON.parse(match[1] as string) as { number: number }).number] : [];
  });
}

/** The pids `pnpm start` printed for the broker, ingest and drain. */
function printedPids(lines: readonly string[]): number[] {
  return lines.flatMap((line) => {
    const match = /^\[(?:kafka|start)\]\s+.*\(pid (\d+)\)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

describe('pnpm start from a clean checkout', () => {
  it('starts without a warning, shows timed deliveries and the pace, stops everything on Ctrl-C, and the next start resumes the backlog', async () => {
    const url = `http://127.0.0.1:${env.INGEST_PORT}/`;

    const first = await startAndWait('start-1');
    // Without a configured token, pnpm start makes one, keeps it in the data folder and says
    // where the live page is, never printing the token itself.
    const tokenFile = join(dir, 'admin-token');
    await first.waitForLine('the live page line', (l) => l.startsWith('[start]  live page:'));
    expect(first.lines).toContain(
      `[start]  live page: http://127.0.0.1:${env.ADMIN_PORT}/ui (the admin token is in ${tokenFile}; pnpm ctl finds it there)`,
    );
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(first.lines.join('\n')).not.toContain(token);
    const status = (authorization?: string) =>
      fetch(`http://127.0.0.1:${env.ADMIN_PORT}/status`, {
        headers: authorization ? { authorization } : {},
      }).then((response) => response.status);
    expect(await status()).toBe(401);
    expect(await status(`Bearer ${token}`)).toBe(200);
    for (let n = 1; n <= 6; n++) {
      expect(await post(url, { number: n })).toMatchObject({ kind: 'answer', status: 202 });
    }
    await waitUntil(
      'two deliveries and a pace line with a backlog printed',
      () =>
        deliveredNumbers(first.lines).length >= 2 &&
        first.lines.some((line) => Number(PACE.exec(line)?.[2] ?? 0) > 0),
      60_000,
    );
    await ctrlC(first);
    await expectAllGone(first.lines);
    const firstNumbers = deliveredNumbers(first.lines);
    expect(firstNumbers.length).toBeLessThan(6);

    // A healthy start and stop, from a fresh data folder, prints no error and no warning.
    const alarming = first.lines.filter((line) => /\b(ERROR|WARN|FATAL)\b/.test(line));
    expect(alarming, first.lines.join('\n')).toEqual([]);
    // Once per period while there is a backlog: what was delivered against the limit.
    const paces = first.lines.flatMap((line) => {
      const match = PACE.exec(line);
      return match ? [{ delivered: Number(match[1]), deadLetters: Number(match[3]) }] : [];
    });
    expect(paces.length).toBeGreaterThan(0);
    for (const pace of paces) {
      expect(pace.delivered).toBeLessThanOrEqual(1);
      expect(pace.deadLetters).toBe(0);
    }

    const second = await startAndWait('start-2');
    // The same token again: a page left open keeps working across a restart.
    expect(readFileSync(tokenFile, 'utf8').trim()).toBe(token);
    await waitUntil(
      'the rest of the backlog printed',
      () => new Set([...firstNumbers, ...deliveredNumbers(second.lines)]).size === 6,
      60_000,
    );
    await ctrlC(second);
    await expectAllGone(second.lines);
    console.log(
      `pnpm start: first run delivered ${JSON.stringify(firstNumbers)}, second run ${JSON.stringify(deliveredNumbers(second.lines))}; pids gone: ${[...pidsSeen].join(', ')}`,
    );
  }, 400_000);

  it('stops everything when Ctrl-C also ends the reader of its output (pnpm start | grep delivered)', async () => {
    const run = startPipeline('pnpm --silent start 2>&1 | grep --line-buffered -E "pid|ready:"');
    await run.waitForLine(/^\[start\]\s+ready: POST JSON to/);
    const pids = printedPids(run.lines);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    // A terminal's Ctrl-C: SIGINT to the whole pipeline; grep ends at once, so every line
    // pnpm start writes while stopping meets a closed pipe.
    signalGroup(run.child.pid, 'SIGINT');
    await run.exited;
    await expectGone(pids);
  }, 300_000);

  it('stops everything when its output closes (pnpm start | head)', async () => {
    const log = join(dir, 'head.log');
    const run = startPipeline(`pnpm --silent start 2>&1 | tee "${log}" | grep -m1 "ready:"`);
    await run.waitForLine(/^\[start\]\s+ready: POST JSON to/);
    // No signal at all: grep has ended, and pnpm start's next line finds nobody reading.
    await run.exited;
    const printed = readFileSync(log, 'utf8').split('\n');
    const pids = printedPids(printed);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    await expectGone(pids);
  }, 300_000);

  it('stops everything on a hang-up, when the terminal and its output are gone', async () => {
    const run = startPipeline('pnpm --silent start 2>&1 | tee /dev/null');
    await run.waitForLine(/^\[start\]\s+ready: POST JSON to/);
    const pids = printedPids(run.lines);
    expect(pids.length).toBeGreaterThanOrEqual(3);
    // What closing a terminal does: SIGHUP to every process of the job, the reader included.
    signalGroup(run.child.pid, 'SIGHUP');
    await run.exited;
    await expectGone(pids);
  }, 300_000);

  it('takes over a broker left behind by a start that was killed, and stops it at the end', async () => {
    const killed = await startAndWait('killed');
    const [brokerPid, ...servicePids] = printedPids(killed.lines);
    await killed.kill(); // SIGKILL to pnpm, the bootstrap and pnpm start: no cleanup at all
    // The services notice their parent is gone and stop; the broker stays behind.
    await expectProcessesGone(servicePids);
    expect(isAlive(brokerPid as number)).toBe(true);

    const next = await startAndWait('after-kill');
    expect(next.lines.join('\n')).toMatch(
      new RegExp(
        String.raw`Kafka \(pid ${brokerPid}\) .* was left running by an earlier pnpm start .* this run takes it over and stops it at the end`,
      ),
    );
    expect(next.lines.join('\n')).not.toMatch(/it stays running/);
    await ctrlC(next);
    await expectAllGone(next.lines);
    await expectGone([brokerPid as number]);
  }, 400_000);
});

async function startAndWait(name: string): Promise<ScriptProcess> {
  const run = runScript(name, 'start', [], env);
  await run.waitForLine('drain listening', (l) => /^\[drain\].*listening/.test(l), 180_000);
  await run.waitForLine(
    'the ready line',
    (l) => /^\[start\]\s+ready: POST JSON to/.test(l),
    180_000,
  );
  for (const pid of printedPids(run.lines)) pidsSeen.add(pid);
  expect(printedPids(run.lines).length).toBeGreaterThanOrEqual(3);
  return run;
}

/**
 * What a terminal's Ctrl-C does: SIGINT to the whole foreground process group. pnpm then ends
 * by that signal, as programs do on Ctrl-C; start.ts says how its own stop went.
 */
async function ctrlC(run: ScriptProcess): Promise<void> {
  const exit = await run.signal('SIGINT');
  expect([0, 130, 'SIGINT']).toContain(exit.code ?? exit.signal);
  expect(run.lines.at(-1), run.lines.slice(-20).join('\n')).toBe('[start]  all stopped cleanly');
}

async function expectAllGone(lines: readonly string[]): Promise<void> {
  await expectGone(printedPids(lines));
  expect(lines).toContain('[kafka]  Kafka stopped');
}

/** The processes are gone and so is the broker's pid file, the last thing pnpm start removes. */
async function expectGone(pids: readonly number[]): Promise<void> {
  await expectProcessesGone(pids);
  await waitUntil('broker.pid removed', () => !existsSync(join(dir, 'broker.pid')), 30_000);
}

async function expectProcessesGone(pids: readonly number[]): Promise<void> {
  for (const pid of pids) pidsSeen.add(pid);
  await waitUntil(`pids ${pids.join(', ')} gone`, () => pids.every((pid) => !isAlive(pid)), 60_000);
}

interface Pipeline {
  child: ChildProcess;
  lines: string[];
  exited: Promise<void>;
  waitForLine(pattern: RegExp): Promise<void>;
}

/** A shell pipeline around `pnpm start`, in its own process group like a terminal's job. */
function startPipeline(command: string): Pipeline {
  const merged = Object.fromEntries(
    Object.entries({ ...process.env, ...env }).filter(([, value]) => value !== undefined),
  );
  const child = spawn('sh', ['-c', command], {
    cwd: repoRoot,
    env: merged,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  pipelines.add(child);
  const lines: string[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const pid of printedPids([line])) pidsSeen.add(pid);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    exited,
    async waitForLine(pattern) {
      await waitUntil(`a line like ${pattern}`, () => lines.some((l) => pattern.test(l)), 180_000);
    },
  };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}
