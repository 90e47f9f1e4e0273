import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One request the destination received from drain's http sink. */
export interface Arrival {
  id: string;
  attempt: number;
  /** What the destination answered: 200, or 503 to an attempt it was told to fail. */
  status: number;
  body: string;
  /** High-resolution epoch ms when the request's headers arrived at the destination. */
  at: number;
}

/** The API behind the throttle: a local HTTP server that records every delivery. */
export interface Destination {
  url: string;
  readonly arrivals: readonly Arrival[];
  /** Distinct message ids received (answered or failed). */
  ids(): Set<string>;
  /** Distinct message ids answered 200: delivered. */
  delivered(): Set<string>;
  /** Deliveries (answered 200) beyond the first of each id. */
  duplicates(): number;
  close(): Promise<void>;
}

const serverScript = fileURLToPath(
  new URL('../../test-support/destination-server.ts', import.meta.url),
);

/**
 * Starts the destination in its own process: arrival times are read by an idle event loop, not
 * by the test's, which is busy reading the services' output. Otherwise a pause of the test
 * process would shift some arrivals and look like a broken rate.
 */
export async function startDestination(
  options: { failFirstAttemptEvery?: number } = {},
): Promise<Destination> {
  const arrivals: Arrival[] = [];
  const child: ChildProcess = fork(serverScript, [String(options.failFirstAttemptEvery ?? 0)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`destination exited (${code}) before listening`)),
    );
    child.on('message', (message: { listening?: string; arrivals?: Arrival[] }) => {
      if (message.listening) resolve(message.listening);
      if (message.arrivals) arrivals.push(...message.arrivals);
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    arrivals,
    ids: () => new Set(arrivals.map((a) => a.id)),
    delivered: () => new Set(arrivals.filter((a) => a.status === 200).map((a) => a.id)),
    duplicates() {
      const answered = arrivals.filter((a) => a.status === 200);
      return answered.length - new Set(answered.map((a) => a.id)).size;
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
