import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchJars, isAlive, kafkaVersion, startBroker, stopProcess } from '../kafka/broker.ts';
import { ownerIsRunning, readOwner, removeOwner, writeOwner } from './broker-owner.ts';

export interface LocalKafka {
  bootstrap: string;
  pid: number;
  /** True when this run stops the broker at the end: it started it, or took over a leftover. */
  owned: boolean;
  /** Stops the broker if this run owns it; leaves one from `pnpm kafka:start` running. */
  stop(): Promise<void>;
}

export interface LocalKafkaOptions {
  dir: string;
  port: number;
  controllerPort: number;
  say: (text: string) => void;
}

/**
 * The same broker `pnpm kafka:start` runs (same folder, port and pid file), so the two commands
 * share it. One from `pnpm kafka:start` is reused and left running; one left behind by a
 * `pnpm start` that was killed is taken over and stopped at the end; otherwise one is started.
 */
export async function ensureLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const { dir, port, controllerPort, say } = options;
  const pidFile = join(dir, 'broker.pid');
  const bootstrap = `127.0.0.1:${port}`;
  const owned = (pid: number): LocalKafka => ({
    bootstrap,
    pid,
    owned: true,
    async stop() {
      say(`stopping Kafka (pid ${pid})`);
      await stopProcess(pid);
      rmSync(pidFile, { force: true });
      removeOwner(dir);
    },
  });

  const running = runningBrokerPid(pidFile, dir);
  if (running !== undefined) {
    const owner = readOwner(dir);
    if (owner === undefined) {
      say(
        `reusing the Kafka started by "pnpm kafka:start" (pid ${running}) at ${bootstrap}; it stays running`,
      );
      return { bootstrap, pid: running, owned: false, stop: async () => {} };
    }
    if (ownerIsRunning(owner)) {
      say(
        `reusing the Kafka (pid ${running}) of the pnpm start still running as pid ${owner.pid}; that run stops it`,
      );
      return { bootstrap, pid: running, owned: false, stop: async () => {} };
    }
    writeOwner(dir);
    say(
      `Kafka (pid ${running}) at ${bootstrap} was left running by an earlier pnpm start (pid ${owner.pid}) that was killed; this run takes it over and stops it at the end`,
    );
    return owned(running);
  }

  await fetchJars(say);
  say(`starting Apache Kafka ${kafkaVersion()} at ${bootstrap}, data in ${dir}`);
  const began = Date.now();
  const broker = await startBroker({ dir, port, controllerPort }, { detached: true });
  // Should this process be killed outright, these two files tell the next start whose it was.
  writeFileSync(pidFile, String(broker.pid));
  writeOwner(dir);
  say(`ready in ${Date.now() - began} ms (pid ${broker.pid})`);
  return owned(broker.pid);
}

function runningBrokerPid(pidFile: string, dir: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A recycled pid must never be taken for the broker: only a JVM running Kafka on this folder.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(join(dir, 'server.properties'))
      ? pid
      : undefined;
  } catch {
    return undefined;
  }
}
