import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota } from './cpu-quota.ts';
import { resolveWorkerCount } from './worker-count.ts';

describe('resolveWorkerCount', () => {
  it('auto is the CPUs available, at least one, at most 64', () => {
    expect(resolveWorkerCount('auto', 6)).toBe(6);
    expect(resolveWorkerCount('auto', 0)).toBe(1);
    expect(resolveWorkerCount('auto', 256)).toBe(64);
  });

  it("auto keeps within a container's CPU quota", () => {
    expect(resolveWorkerCount('auto', 64, 2)).toBe(2);
    expect(resolveWorkerCount('auto', 4, 8)).toBe(4);
  });

  it('a number is taken as given', () => {
    expect(resolveWorkerCount(1, 8)).toBe(1);
    expect(resolveWorkerCount(3, 2, 1)).toBe(3);
  });
});

describe('cgroupCpuQuota', () => {
  const files =
    (contents: Record<string, string>) =>
    (path: string): string | undefined =>
      contents[path];

  it('reads cgroup v2 cpu.max, rounding a fractional quota up', () => {
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
  });

  it('reads cgroup v1 when there is no v2 file, and nothing when there is neither', () => {
    const v1 = {
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    };
    expect(cgroupCpuQuota(files(v1))).toBe(3);
    expect(
      cgroupCpuQuota(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n' })),
    ).toBeUndefined();
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });
});
