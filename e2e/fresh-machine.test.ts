import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { post } from './support/client.ts';
import { repoRoot } from './support/processes.ts';
import { waitUntil } from './support/wait.ts';

/**
 * The README's first command on a machine that has Node, npm, Java and Maven and nothing else:
 * a copy of the checkout without node_modules or Kafka's jars, a PATH holding only those tools
 * (and the basic POSIX commands every machine has, which Maven's launcher and the package bin
 * scripts use), and an npm prefix of its own, so the pnpm it installs lands there and not on
 * this machine.
 */
const TOOLS = ['node', 'npm', 'npx', 'java', 'mvn'];
const POSIX = [
  'sh',
  'uname',
  'expr',
  'ls',
  'dirname',
  'basename',
  'readlink',
  'sed',
  'cat',
  'grep',
];
const pinnedPnpm = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.split('@')[1] as string;

let dir: string | undefined;
let run: ChildProcess | undefined;

afterAll(async () => {
  if (run?.pid !== undefined && run.exitCode === null) {
    try {
      process.kill(-run.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm start on a machine without pnpm', () => {
  it('installs the pinned pnpm, the dependencies and Kafka, then runs', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-fresh-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const tool of [...TOOLS, ...POSIX]) symlinkSync(whereIs(tool), join(bin, tool));
    const checkout = join(dir, 'checkout');
    for (const file of checkoutFiles()) {
      mkdirSync(dirname(join(checkout, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(checkout, file), { verbatimSymlinks: true });
    }
    const prefix = join(dir, 'npm-prefix');
    const env = {
      PATH: bin,
      HOME: process.env.HOME ?? dir,
      LANG: 'C.UTF-8',
      npm_config_prefix: prefix,
      npm_config_update_notifier: 'false',
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_TOPIC: `fresh-${process.pid}`,
      DRAIN_GROUP: `fresh-${process.pid}`,
      INGEST_PORT: '0',
      INGEST_HOST: '127.0.0.1',
      DRAIN_PORT: '0',
      DRAIN_HOST: '127.0.0.1',
      RATE_MESSAGES: '5',
      RATE_PERIOD: '1s',
      NO_COLOR: '1',
    };
    // The premise: nothing called pnpm can be found.
    expect(spawnSync('pnpm', ['--version'], { env }).error).toMatchObject({ code: 'ENOENT' });

    run = spawn('npm', ['start'], {
      cwd: checkout,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    for (const stream of [run.stdout, run.stderr]) {
      createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
        lines.push(line);
      });
    }
    const exited = new Promise<number | null>((resolve) => run?.once('exit', resolve));
    const seen = (pattern: RegExp) => {
      if (run?.exitCode !== null) throw new Error(`npm start ended early:\n${explain()}`);
      return lines.find((line) => pattern.test(line));
    };
    const explain = () => lines.slice(-40).join('\n');

    await waitUntil(
      'pnpm start ready',
      () => seen(/^\[start\]\s+ready: POST JSON to/) !== undefined,
      600_000,
      250,
      explain,
    );
    expect(seen(/^\[setup\]\s+pnpm is not installed; installing pnpm/), explain()).toBeDefined();
    expect(
      seen(/^\[setup\]\s+installing dependencies: pnpm install --frozen-lockfile/),
    ).toBeDefined();
    expect(seen(/^\[setup\]\s+fetching Apache Kafka .* with Maven/)).toBeDefined();
    expect(
      execFileSync(join(prefix, 'bin', 'pnpm'), ['--version'], { env })
        .toString()
        .trim(),
    ).toBe(pinnedPnpm);

    const port = /http:\/\/localhost:(\d+)\//.exec(seen(/ready: POST JSON to/) as string)?.[1];
    expect(await post(`http://127.0.0.1:${port}/`, { fresh: true })).toMatchObject({
      status: 202,
    });
    await waitUntil(
      'the delivery printed',
      () => seen(/^\[drain\]\s+\S+ delivered #1 p\d+@\d+ \{"fresh":true\}$/) !== undefined,
      120_000,
      250,
      explain,
    );

    process.kill(-(run.pid as number), 'SIGINT');
    await exited;
    expect(lines).toContain('[start]  all stopped cleanly');
  }, 900_000);
});

function whereIs(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`])
    .toString()
    .trim();
}

/** The files of the checkout as a clone has them: tracked and new, nothing ignored or fetched. */
function checkoutFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z', '-co', '--exclude-standard'], { cwd: repoRoot })
    .toString()
    .split('\0')
    .filter((file) => file !== '' && !file.startsWith('scripts/kafka/.jars'))
    .filter((file) => existsSync(join(repoRoot, file)));
}
