import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of processes from /proc (Linux). A service of several processes (ingest's primary and
 * its workers) is measured as a whole: the process the bench spawned and its living descendants.
 */

interface ProcessStat {
  ppid: number;
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  name: string;
  /** user + system CPU of all its threads so far. */
  cpuMs: number;
}

/** CPU ms used so far by one process (0 once it is gone). */
export function cpuMs(pid: number): number {
  return readStat(pid)?.cpuMs ?? 0;
}

/** CPU ms used so far by a process and its living descendants. */
export function treeCpuMs(pid: number): number {
  const stats = readAllStats();
  return descendantsOf(pid, stats).reduce((total, p) => total + (stats.get(p)?.cpuMs ?? 0), 0);
}

/** How many Node processes a process and its descendants are (tsx's esbuild helpers left out). */
export function nodeProcessCount(pid: number): number {
  const stats = readAllStats();
  return descendantsOf(pid, stats).filter((p) => stats.get(p)?.name === 'node').length;
}

/** The process itself and every living descendant. */
function descendantsOf(pid: number, stats: Map<number, ProcessStat>): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const current = pending.pop() as number;
    if (!stats.has(current)) continue;
    found.push(current);
    for (const [child, stat] of stats) if (stat.ppid === current) pending.push(child);
  }
  return found;
}

function readAllStats(): Map<number, ProcessStat> {
  const stats = new Map<number, ProcessStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  return stats;
}

function readStat(pid: number): ProcessStat | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name is in parentheses and may itself hold spaces or parentheses.
    const name = line.slice(line.indexOf('(') + 1, line.lastIndexOf(')'));
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // After the name: state, ppid, ...; utime and stime are fields 14 and 15, in 10 ms ticks.
    return {
      ppid: Number(fields[1]),
      name,
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
    };
  } catch {
    // The process ended while the list was read.
    return undefined;
  }
}
