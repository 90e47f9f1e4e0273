import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '@kafka-throttle/common';
import { isAlive } from './kafka/broker.ts';
import { adminTokenFile, ensureAdminToken } from './start/admin-token.ts';
import { formatBrokerLine } from './start/broker-line.ts';
import { ensureLocalKafka, type LocalKafka } from './start/local-kafka.ts';
import { createLineFormatter } from './start/log-line.ts';
import { tailFile } from './start/log-tail.ts';
import { createOutput, guardStream, type Output, wantsColor } from './start/output.ts';
import { startPaceReporter } from './start/pace-reporter.ts';
import { adminListeningPort, listeningPort, waitUntilReady } from './start/ready.ts';
import { type RunningService, type ServiceExit, startService } from './start/service.ts';
import { settleKafka } from './start/settle-kafka.ts';

/**
 * `pnpm start`: the whole product in one terminal. Without KAFKA_BROKERS it runs the local Kafka
 * that `pnpm kafka:start` runs (127.0.0.1:9092, data in .kafka/, so a backlog survives), then one
 * ingest and, once ingest has the topics ready, one drain worker with the log sink. Ctrl-C,
 * SIGTERM, a hang-up or the loss of its output (a closed pipe) stops ingest and drain
 * gracefully, then the broker if this run owns it.
 */

const root = fileURLToPath(new URL('../', import.meta.url));
// The services promise to stop within 10 s; past this they are killed.
const SERVICE_GRACE_MS = 15_000;

type StopReason = string;

async function main(): Promise<number> {
  const env = process.env;
  let stopRequested: (reason: StopReason) => void = () => {};
  const stopSignal = new Promise<StopReason>((resolve) => {
    stopRequested = resolve;
  });
  // Repeats are expected (the terminal signals npm, pnpm and us alike); the first one counts.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => stopRequested(signal));
  }
  const stdout = guardStream(process.stdout, (code) => stopRequested(`output closed (${code})`));
  guardStream(process.stderr, () => {});
  const out = createOutput({
    write: (text) => stdout.write(text),
    color: wantsColor(process.stdout, env),
  });
  const code = await runAll(env, out, stopSignal);
  // The last word is ours: under npm or pnpm a Ctrl-C'd run ends by the signal, not this code.
  out.line('start', code === 0 ? 'all stopped cleanly' : `stopped with exit code ${code}`);
  return code;
}

async function runAll(env: NodeJS.ProcessEnv, out: Output, stopSignal: Promise<StopReason>) {
  const say = (text: string): void => out.line('start', text);
  let kafka: LocalKafka | undefined;
  let kafkaStopped = false;
  let tail: { stop(): void } | undefined;
  const services: RunningService[] = [];
  // Should this process die some other way, nothing it started may outlive it. Only synchronous
  // work runs here: SIGTERM lets each of them stop cleanly on its own.
  process.once('exit', () => {
    const pids = services.map((service) => service.pid);
    if (kafka?.owned && !kafkaStopped) pids.push(kafka.pid);
    for (const pid of pids) {
      if (isAlive(pid)) process.kill(pid, 'SIGTERM');
    }
  });

  const dir = env.KAFKA_LOCAL_DIR ?? join(root, '.kafka');
  try {
    let brokers = env.KAFKA_BROKERS?.trim();
    if (brokers) {
      out.line('kafka', `using KAFKA_BROKERS=${brokers}; no local broker is started`);
    } else {
      const port = Number(env.KAFKA_LOCAL_PORT ?? 9092);
      const controllerPort = Number(env.KAFKA_LOCAL_CONTROLLER_PORT ?? port + 1);
      mkdirSync(dir, { recursive: true });
      tail = tailFile(join(dir, 'broker.log'), (line) => out.line('kafka', formatBrokerLine(line)));
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

    const config = configOrUndefined(env);
    // The live page and `pnpm ctl` need an admin token; a first run should not need a step of
    // its own for them. One that is configured wins; otherwise the one kept in the data folder.
    mkdirSync(dir, { recursive: true });
    const madeToken = config !== undefined && config.admin.token === undefined;
    const childEnv = {
      ...env,
      KAFKA_BROKERS: brokers,
      ...(madeToken ? { ADMIN_TOKEN: ensureAdminToken(dir) } : {}),
    };
    const pace = startPaceReporter({ say: (text) => out.line('drain', text), config });
    const launch = (
      name: 'ingest' | 'drain',
      onPort: (port: number) => void,
      onAdminPort?: (port: number) => void,
    ): RunningService => {
      const formatter = createLineFormatter({
        onDelivery: name === 'drain' ? (time) => pace.delivered(time) : undefined,
      });
      let portSeen = false;
      const service = startService({
        name,
        script: join(root, 'packages', name, 'src', 'main.ts'),
        cwd: root,
        env: childEnv,
        onLine: (line) => {
          out.line(name, formatter.format(line));
          const adminPort = onAdminPort && adminListeningPort(line);
          if (adminPort !== undefined) onAdminPort?.(adminPort);
          const port = portSeen || adminPort !== undefined ? undefined : listeningPort(line);
          if (port === undefined) return;
          portSeen = true;
          onPort(port);
        },
      });
      services.push(service);
      say(`${name} started (pid ${service.pid})`);
      return service;
    };

    const readiness = new AbortController();
    if (config) {
      const settled = await Promise.race([
        stopSignal,
        settleKafka(brokers, config, readiness.signal),
      ]);
      if (typeof settled === 'string') {
        readiness.abort();
        say(`${settled} while waiting for Kafka`);
        return 0;
      }
    }
    let ingestPort = 0;
    const livePage = createLivePageLine(config, madeToken ? adminTokenFile(dir) : undefined, say);
    const ingestReady = new Promise<boolean>((resolve) => {
      const ingest = launch(
        'ingest',
        (port) => {
          ingestPort = port;
          void waitUntilReady(port, readiness.signal).then(resolve);
        },
        livePage.listening,
      );
      void ingest.exited.then(() => resolve(false));
    });
    const firstExit = () =>
      Promise.race(services.map((service) => service.exited.then((exit) => ({ service, exit }))));
    // drain starts once ingest is ready: then the topics exist and POSTs are accepted.
    const early = await Promise.race([stopSignal, ingestReady]);
    if (early === true) {
      launch('drain', (port) => pace.watch(port));
      say(
        `ready: POST JSON to http://localhost:${ingestPort}/ (try "pnpm bombard" in another terminal). Ctrl-C stops everything.`,
      );
      livePage.ready();
    }
    const ended = typeof early === 'string' ? early : await Promise.race([stopSignal, firstExit()]);
    readiness.abort();
    pace.stop();
    if (typeof ended === 'string') {
      say(`${ended}: stopping ${services.map((s) => s.name).join(' and ')}`);
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
    if (kafka?.owned) {
      await kafka.stop();
      kafkaStopped = true;
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

/**
 * Says where the live page is once ingest is ready and its admin server listens, whichever
 * comes last. The token itself is never printed: only the file that holds it, if we made it.
 */
function createLivePageLine(
  config: Config | undefined,
  tokenFile: string | undefined,
  say: (text: string) => void,
): { listening(port: number): void; ready(): void } {
  let adminPort: number | undefined;
  let ready = false;
  let said = false;
  const sayOnce = (): void => {
    if (said || !ready || adminPort === undefined || config === undefined) return;
    said = true;
    const host = ['0.0.0.0', '::'].includes(config.admin.host) ? '127.0.0.1' : config.admin.host;
    const where = host.includes(':') ? `[${host}]` : host;
    const token = tokenFile
      ? `the admin token is in ${tokenFile.startsWith(root) ? relative(root, tokenFile) : tokenFile}; pnpm ctl finds it there`
      : 'with your admin.token';
    say(`live page: http://${where}:${adminPort}/ui (${token})`);
  };
  return {
    listening(port) {
      adminPort = port;
      sayOnce();
    },
    ready() {
      ready = true;
      sayOnce();
    },
  };
}

/** The services' configuration, or undefined when invalid: they then exit with its message. */
function configOrUndefined(env: NodeJS.ProcessEnv): Config | undefined {
  try {
    return loadConfig({ env });
  } catch {
    return undefined;
  }
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
