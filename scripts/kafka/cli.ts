import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeOwner } from '../start/broker-owner.ts';
import { fetchJars, isAlive, startBroker, stopProcess } from './broker.ts';

/**
 * `pnpm kafka:fetch | kafka:start | kafka:stop | kafka:status`: the developer's own broker on
 * 127.0.0.1:9092 (KAFKA_LOCAL_PORT to change it), its data under .kafka/ so a backlog survives.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = process.env.KAFKA_LOCAL_DIR ?? join(root, '.kafka');
const pidFile = join(dir, 'broker.pid');
const port = Number(process.env.KAFKA_LOCAL_PORT ?? 9092);
const controllerPort = Number(process.env.KAFKA_LOCAL_CONTROLLER_PORT ?? port + 1);

function runningPid(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined;
  // Only a JVM running Kafka counts: a recycled pid must never be signalled.
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmdline.includes('kafka.Kafka') ? pid : undefined;
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'fetch':
      await fetchJars((line) => console.log(line));
      console.log('Kafka jars are in place');
      return;
    case 'start': {
      const pid = runningPid();
      if (pid !== undefined) {
        console.log(`Kafka is already running (pid ${pid}) at 127.0.0.1:${port}`);
        return;
      }
      await fetchJars((line) => console.log(line));
      const started = Date.now();
      const broker = await startBroker({ dir, port, controllerPort }, { detached: true });
      writeFileSync(pidFile, String(broker.pid));
      // Started by hand, so no `pnpm start` owns it: every start reuses it and leaves it running.
      removeOwner(dir);
      console.log(
        `Kafka is running (pid ${broker.pid}, ready in ${Date.now() - started} ms) at ${broker.bootstrap}; data in ${dir}`,
      );
      return;
    }
    case 'stop': {
      const pid = runningPid();
      if (pid === undefined) {
        console.log('Kafka is not running');
      } else {
        await stopProcess(pid);
        console.log(`Kafka (pid ${pid}) stopped`);
      }
      rmSync(pidFile, { force: true });
      removeOwner(dir);
      return;
    }
    case 'status': {
      const pid = runningPid();
      console.log(pid === undefined ? 'Kafka is not running' : `Kafka is running (pid ${pid})`);
      process.exitCode = pid === undefined ? 1 : 0;
      return;
    }
    default:
      console.error('usage: tsx scripts/kafka/cli.ts fetch|start|stop|status');
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
