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
  // The services stop within 10 s on SIGTERM; should one hang with nobody left to kill it, this
  // ends it (what it had in flight is redelivered: nothing accepted is lost).
  setTimeout(() => process.exit(1), 30_000).unref();
}, 500);
timer.unref();
