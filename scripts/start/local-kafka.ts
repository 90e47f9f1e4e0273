import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchJars, isAlive, kafkaVersion, startBroker, stopProcess } from '../kafka/broker.ts';

export interface LocalKafka {
  bootstrap: string;
  pid: number;
  /** False when a broker from `pnpm kafka:start` (or an earlier run) was already running. */
  startedHere: boolean;
  /** Stops the broker if this run started it; leaves a reused one running. */
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
 * share it: a running one is reused and left running, otherwise one is started and stopped later.
 */
export async function ensureLocalKafka(options: LocalKafkaOptions): Promise<LocalKafka> {
  const { dir, port, controllerPort, say } = options;
  const pidFile = join(dir, 'broker.pid');
  const bootstrap = `127.0.0.1:${port}`;
  const running = runningBrokerPid(pidFile);
  if (running !== undefined) {
    say(`reusing the Kafka already running (pid ${running}) at ${bootstrap}; it stays running`);
    return { bootstrap, pid: running, startedHere: false, stop: async () => {} };
  }

  await fetchJars(say);
  say(`starting Apache Kafka ${kafkaVersion()} at ${bootstrap}, data in ${dir}`);
  const began = Date.now();
  const broker = await startBroker({ dir, port, controllerPort }, { detached: true });
  // The pid file lets `pnpm kafka:stop` find it should this process die without cleaning up.
  writeFileSync(pidFile, String(broker.pid));
  say(`ready in ${Date.now() - began} ms (pid ${broker.pid})`);
  return {
    bootstrap,
    pid: broker.pid,
    startedHere: true,
    async stop() {
      say(`stopping Kafka (pid ${broker.pid})`);
      await stopProcess(broker.pid);
      rmSync(pidFile, { force: true });
    },
  };
}

function runningBrokerPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A recycled pid must never be taken for the broker: only a JVM running Kafka counts.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}
