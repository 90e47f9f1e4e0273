import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Arrivals {
  /** Arrival times (epoch ms, sub-millisecond), in arrival order. */
  times: number[];
  /** The `X-Throttle-Id` of each arrival, in the same order as `times`. */
  ids: string[];
}

export interface CountingDestination {
  url: string;
  /** What arrived since the last reset. */
  collect(): Promise<Arrivals>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

type Answer =
  | { kind: 'listening'; url: string }
  | { kind: 'reset' }
  | ({ kind: 'collected' } & Arrivals);

const serverScript = fileURLToPath(new URL('./drain-destination-server.ts', import.meta.url));

/**
 * The destination for the accuracy runs, in a process of its own (drain-destination-server.ts):
 * it costs little per request, its garbage collection stays out of the measurement, and its
 * arrival times are not delayed by the bench's own work.
 */
export async function startCountingDestination(): Promise<CountingDestination> {
  const child: ChildProcess = fork(serverScript, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <K extends Answer['kind']>(kind: K): Promise<Extract<Answer, { kind: K }>> =>
    new Promise((resolve) => {
      const listener = (message: Answer): void => {
        if (message.kind !== kind) return;
        child.off('message', listener);
        resolve(message as Extract<Answer, { kind: K }>);
      };
      child.on('message', listener);
    });
  const { url } = await next('listening');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Warm the server's own request path, so its first answers are not slower than the rest.
  for (let i = 0; i < 50; i++) {
    const response = await fetch(url, { method: 'POST', body: '{}' });
    await response.arrayBuffer();
  }
  const reset = async (): Promise<void> => {
    const done = next('reset');
    child.send({ kind: 'reset' });
    await done;
  };
  await reset();
  return {
    url,
    async collect() {
      const collected = next('collected');
      child.send({ kind: 'collect' });
      const { times, ids } = await collected;
      return { times, ids };
    },
    reset,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
