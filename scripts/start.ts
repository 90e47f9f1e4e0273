import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLocalKafka, type LocalKafka } from './start/local-kafka.ts';
import { createLineFormatter } from './start/log-line.ts';
import { tailFile } from './start/log-tail.ts';
import { createOutput, type Output, wantsColor } from './start/output.ts';
import { listeningPort, waitUntilReady } from './start/ready.ts';
import { type RunningService, type ServiceExit, startService } from './start/service.ts';

/**
 * `pnpm start`: the whole product in one terminal. Without KAFKA_BROKERS it runs the local Kafka
 * that `pnpm kafka:start` runs (127.0.0.1:9092, data in .kafka/, so a backlog survives), then one
 * ingest and one drain worker with the log sink. Ctrl-C or SIGTERM stops ingest and drain
 * gracefully, then the broker if this run started it.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
// The services promise to stop within 10 s; past this they are killed.
const SERVICE_GRACE_MS = 15_000;

async function main(): Promise<number> {
  const env = process.env;
  const out = createOutput({
    write: (text) => process.stdout.write(text),
    color: wantsColor(process.stdout, env),
  });
  const code = await runAll(env, out);
  // The last word is ours: under pnpm and tsx a Ctrl-C'd run ends by the signal, not this code.
  out.line('start', code === 0 ? 'all stopped cleanly' : `stopped with exit code ${code}`);
  return code;
}

async function runAll(env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  const say = (text: string): void => out.line('start', text);

  let stopping = false;
  let stopRequested: (reason: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    stopRequested = resolve;
  });
  // Repeats are expected (the terminal signals pnpm, tsx and us alike); the first one counts.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) stopRequested(signal);
    });
  }

  let kafka: LocalKafka | undefined;
  let tail: { stop(): void } | undefined;
  const services: RunningService[] = [];
  // Should this process die some other way, the detached children must not outlive it.
  process.once('exit', () => {
    for (const service of services) {
      try {
        process.kill(service.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  try {
    let brokers = env.KAFKA_BROKERS?.trim();
    if (brokers) {
      out.line('kafka', `using KAFKA_BROKERS=${brokers}; no local broker is started`);
    } else {
      const dir = env.KAFKA_LOCAL_DIR ?? join(root, '.kafka');
      const port = Number(env.KAFKA_LOCAL_PORT ?? 9092);
      const controllerPort = Number(env.KAFKA_LOCAL_CONTROLLER_PORT ?? port + 1);
      mkdirSync(dir, { recursive: true });
      tail = tailFile(join(dir, 'broker.log'), (line) => out.line('kafka', line));
      const starting = ensureLocalKafka({
        dir,
        port,
        controllerPort,
        say: (text) => out.line('kafka', text),
      });
      const first = await Promise.race([starting, stopSignal]);
      if (typeof first === 'string') {
        say(`${first} while Kafka was starting; stopping it`);
        kafka = await starting.catch(() => undefined);
        return 0;
      }
      kafka = first;
      brokers = kafka.bootstrap;
    }

    const childEnv = { ...env, KAFKA_BROKERS: brokers };
    const readiness = new AbortController();
    let announced = false;
    for (const name of ['ingest', 'drain'] as const) {
      const formatter = createLineFormatter();
      const service = startService({
        name,
        script: join(root, 'packages', name, 'src', 'main.ts'),
        cwd: root,
        env: childEnv,
        onLine: (line) => {
          out.line(name, formatter.format(line));
          const port = name === 'ingest' && !announced ? listeningPort(line) : undefined;
          if (port === undefined) return;
          announced = true;
          void waitUntilReady(port, readiness.signal).then((ready) => {
            if (!ready) return;
            say(
              `ready: POST JSON to http://localhost:${port}/ (try "pnpm bombard" in another terminal). Ctrl-C stops everything.`,
            );
          });
        },
      });
      services.push(service);
      say(`${name} started (pid ${service.pid})`);
    }

    const firstExit = Promise.race(
      services.map((service) => service.exited.then((exit) => ({ service, exit }))),
    );
    const ended = await Promise.race([stopSignal, firstExit]);
    stopping = true;
    readiness.abort();
    if (typeof ended === 'string') {
      say(`${ended}: stopping ingest and drain`);
      const exits = await stopAll(services);
      const bad = exits.filter(({ exit }) => exit.code !== 0);
      for (const { service, exit } of bad) {
        say(`${service.name} (pid ${service.pid}) did not stop cleanly: ${describe(exit)}`);
      }
      return bad.length === 0 ? 0 : 1;
    }
    say(
      `${ended.service.name} (pid ${ended.service.pid}) exited unexpectedly: ${describe(ended.exit)}; stopping the rest`,
    );
    await stopAll(services);
    return 1;
  } finally {
    stopping = true;
    if (kafka?.startedHere) {
      await kafka.stop();
      tail?.stop();
      out.line('kafka', 'Kafka stopped');
    } else {
      tail?.stop();
    }
  }
}

async function stopAll(
  services: readonly RunningService[],
): Promise<{ service: RunningService; exit: ServiceExit }[]> {
  return Promise.all(
    services.map(async (service) => ({ service, exit: await service.stop(SERVICE_GRACE_MS) })),
  );
}

function describe(exit: ServiceExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`[start]  ${message}\n`);
    const taken = /port (\d+) on 127\.0\.0\.1 is taken/.exec(message);
    if (taken) {
      process.stderr.write(
        `[start]  if a Kafka already runs there, KAFKA_BROKERS=127.0.0.1:${taken[1]} pnpm start uses it; KAFKA_LOCAL_PORT=<port> moves ours\n`,
      );
    }
    process.exit(1);
  },
);
