import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type Arrival,
  arrivalWaiters,
  type Destination,
  recordingDestination,
  warmUp,
} from './destination.ts';

const serverScript = fileURLToPath(
  new URL('../../../../test-support/destination-server.ts', import.meta.url),
);

/**
 * The destination of the timing tests: like `startDestination` with its default answer (200
 * to everything), but in a process of its own, so an arrival is stamped by an idle event loop,
 * not by this test's, which is busy reading the workers' debug output. That is where a
 * destination counts: in another process, as the promise is stated.
 */
export async function startDestinationProcess(): Promise<Destination> {
  const arrivals: Arrival[] = [];
  const waiters = arrivalWaiters(arrivals);
  const child: ChildProcess = fork(serverScript, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listening = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`destination exited (${code}) before listening`)),
    );
    child.on('message', (message: { listening?: string; arrivals?: Arrival[] }) => {
      if (message.listening) resolve(message.listening);
      if (message.arrivals) {
        arrivals.push(...message.arrivals);
        waiters.notify();
      }
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = await listening;
  // A fresh server answers its first requests tens of milliseconds late.
  await warmUp(base);
  return recordingDestination(`${base}hook`, arrivals, waiters.until, async () => {
    child.kill('SIGTERM');
    await exited;
  });
}
