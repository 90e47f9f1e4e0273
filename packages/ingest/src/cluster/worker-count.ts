/**
 * How many processes serve the port: `ingest.workers`, with 'auto' meaning the CPUs this process
 * may use (`os.availableParallelism()`, which honours CPU affinity), passed in by the caller.
 */
export function resolveWorkerCount(setting: number | 'auto', availableCpus: number): number {
  if (setting === 'auto') return Math.max(1, availableCpus);
  return setting;
}
