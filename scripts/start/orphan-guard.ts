import cluster from 'node:cluster';
import { Worker } from 'node:worker_threads';

/**
 * Preloaded (`node --import`) into the ingest and drain that `pnpm start` runs. They live in
 * their own process group, so a terminal's Ctrl-C reaches only `pnpm start`, which stops them in
 * order; but then nothing stops them if `pnpm start` itself is killed outright. When it is gone,
 * this stops the service: SIGTERM first, SIGKILL if it has not ended after the grace period.
 *
 * The watch runs in a worker thread because the service's main thread can be stuck for good
 * once its parent is gone: its log lines go to a pipe nobody reads any more, and pino's
 * synchronous writer waits on it. What it had in flight is redelivered: nothing accepted is lost.
 *
 * A worker of a multi-process ingest inherits this preload, but its parent is ingest's primary,
 * not `pnpm start`: it watches nothing, since Node ends a cluster worker whose primary is gone.
 */
const GRACE_MS = 15_000;
// pnpm start names itself, so a parent that died before this module loaded is noticed too.
const parent = Number(process.env.KAFKA_THROTTLE_START_PID) || process.ppid;

const watch = `
  const { workerData: { parent, pid, graceMs } } = require('node:worker_threads');
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(pid, 'SIGTERM');
    setTimeout(() => process.kill(pid, 'SIGKILL'), graceMs);
  }, 500);
`;
if (cluster.isPrimary) {
  new Worker(watch, {
    eval: true,
    workerData: { parent, pid: process.pid, graceMs: GRACE_MS },
  }).unref();
}
