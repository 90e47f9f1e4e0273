import { readFileSync } from 'node:fs';

/** Reads a file's text, or undefined when it cannot be read (no such cgroup controller). */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The CPUs a cgroup's quota lets this process use, rounded up, or undefined without a quota.
 * `os.availableParallelism()` honours CPU affinity but not a quota: in a container limited to one
 * CPU on a 64-core host it says 64, and `auto` would start 64 workers to share one CPU.
 * cgroup v2 keeps "<quota> <period>" in cpu.max ("max" for none); v1 keeps them apart.
 */
export function cgroupCpuQuota(read: ReadText = readText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) return cpus(v2[0] as string, v2[1] as string);
  const quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim();
  const period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim();
  return quota !== undefined && period !== undefined ? cpus(quota, period) : undefined;
}

function cpus(quota: string, period: string): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  // "max" (v2) or -1 (v1): no quota.
  if (!Number.isFinite(q) || q <= 0 || !Number.isFinite(p) || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}
