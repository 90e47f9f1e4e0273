import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from './broker.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Every live JVM whose command line mentions `dir`: the brokers this test started. */
function javaProcessesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('kafka.Kafka') && cmdline.includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('pnpm kafka:start / kafka:stop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kt-cli-'));
  const port = await freePort();
  const env = {
    ...process.env,
    KAFKA_LOCAL_DIR: dir,
    KAFKA_LOCAL_PORT: String(port),
    KAFKA_LOCAL_CONTROLLER_PORT: String(await freePort()),
  };
  const kafka = (command: string) => run('npx', ['tsx', cli, command], { env });

  afterAll(async () => {
    await kafka('stop').catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a broker, says so when asked again, stops it, and keeps its data', async () => {
    const first = await kafka('start');
    expect(first.stdout).toContain(`Kafka is running`);
    expect(first.stdout).toContain(`127.0.0.1:${port}`);
    const pid = Number(readFileSync(join(dir, 'broker.pid'), 'utf8'));
    expect(isAlive(pid)).toBe(true);

    const admin = new Kafka({
      clientId: 'cli-test',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'survives-restart', numPartitions: 2 }] });
    await admin.disconnect();

    const second = await kafka('start');
    expect(second.stdout).toContain(`Kafka is already running (pid ${pid})`);
    expect(javaProcessesUsing(dir)).toEqual([pid]);

    const stopped = await kafka('stop');
    expect(stopped.stdout).toContain(`Kafka (pid ${pid}) stopped`);
    expect(javaProcessesUsing(dir)).toEqual([]);
    expect((await kafka('stop')).stdout).toContain('Kafka is not running');

    await kafka('start');
    const again = new Kafka({
      clientId: 'cli-test',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    }).admin();
    await again.connect();
    expect(await again.listTopics()).toContain('survives-restart');
    await again.disconnect();
    await kafka('stop');
    expect(javaProcessesUsing(dir)).toEqual([]);
  });
});
