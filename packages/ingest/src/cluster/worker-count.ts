/** The most workers `ingest.workers` allows, `auto` included. */
export const MAX_WORKERS = 64;

/**
 * How many processes serve the port: `ingest.workers`, with 'auto' meaning the CPUs this process
 * may use: `os.availableParallelism()` (which honours CPU affinity), cut to the cgroup's CPU
 * quota when there is one (a container's limit), at most `MAX_WORKERS`; both passed in by the
 * caller.
 */
export function resolveWorkerCount(
  setting: number | 'auto',
  availableCpus: number,
  cpuQuota?: number,
): number {
  if (setting !== 'auto') return setting;
  const usable = cpuQuota === undefined ? availableCpus : Math.min(availableCpus, cpuQuota);
  return Math.min(MAX_WORKERS, Math.max(1, usable));
}
