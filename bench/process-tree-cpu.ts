import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time (user + system, all threads, in ms) used so far by a process and its living
 * descendants, from /proc (Linux): a service of several processes (a primary and its workers)
 * is measured as a whole.
 */
export function treeCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stats = new Map<number, { ppid: number; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  let total = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop() as number;
    total += stats.get(current)?.ms ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === current) pending.push(child);
  }
  return total;
}

function readStat(pid: number): { ppid: number; ms: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state, ppid, ...; utime and stime are fields 14 and 15, in 10 ms ticks.
    return { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * 10 };
  } catch {
    // The process ended while the list was read.
    return undefined;
  }
}
