import { runScript, type ScriptProcess } from './processes.ts';
import { waitUntil } from './wait.ts';

/** A running `pnpm ingest` or `pnpm drain`, with what its logs said. */
export interface Service extends ScriptProcess {
  /** The service's own pid (not pnpm's), from its log lines. */
  pid: number;
  /** The port it listens on (it was started with port 0). */
  port: number;
  /** SIGTERM to the service itself, as an orchestrator would; resolves with pnpm's exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Settings every e2e service gets: info logs (vitest's NODE_ENV=test would make them quieter),
 * any free port, and loopback only.
 */
const BASE_ENV = {
  LOG_LEVEL: 'info',
  INGEST_PORT: '0',
  INGEST_HOST: '127.0.0.1',
  DRAIN_PORT: '0',
  DRAIN_HOST: '127.0.0.1',
};

/**
 * The service's own "listening" line, with its port and the pid to signal. With ingest.workers
 * > 1 each worker says it listens too; the service is the primary (its line has no `worker`), and
 * a stop signal sent to one worker only makes the primary replace it. The admin server's line is
 * about another port.
 */
export function serviceListening(entry: Record<string, unknown>): boolean {
  return (
    entry.worker === undefined &&
    typeof entry.port === 'number' &&
    typeof entry.msg === 'string' &&
    entry.msg.includes('listening') &&
    entry.msg !== 'admin server listening'
  );
}

/** Starts `pnpm ingest` or `pnpm drain` and waits until it listens. */
export async function startService(
  kind: 'ingest' | 'drain',
  env: Record<string, string>,
  name: string = kind,
): Promise<Service> {
  const script = runScript(name, kind, [], { ...BASE_ENV, ...env });
  const listening = await script.waitForEntry('its "listening" log line', serviceListening, 90_000);
  const pid = Number(listening.pid);
  const port = Number(listening.port);
  // As an orchestrator would: traffic only once /readyz says Kafka is reachable.
  await waitUntil(`${name} ready (GET /readyz answers 200)`, () => isReady(port), 90_000, 200);
  return Object.assign(script, {
    pid,
    port,
    stop: () => script.signal('SIGTERM', pid),
  });
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
      signal: AbortSignal.timeout(2000),
    });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
