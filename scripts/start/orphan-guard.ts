/**
 * Preloaded (`node --import`) into the ingest and drain that `pnpm start` runs. They live in
 * their own process group, so a terminal's Ctrl-C reaches only `pnpm start`, which stops them in
 * order; but then nothing stops them if `pnpm start` itself is killed outright. When the parent
 * is gone (the pid we were started by is no longer our parent), stop as on SIGTERM: gracefully.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
}, 500);
timer.unref();
