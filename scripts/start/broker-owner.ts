import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../kafka/broker.ts';

/**
 * Which `pnpm start` run owns the local broker. A run that starts the broker writes this file
 * next to broker.pid and removes it when it stops the broker; `pnpm kafka:start` writes none.
 * A broker whose owner file names a process that no longer exists was left behind by a start
 * that was killed outright (SIGKILL, OOM), and the next start must take it over rather than
 * reuse it as if the user had started it on purpose.
 */
export interface BrokerOwner {
  pid: number;
  /** The owner's start time (clock ticks since boot), so a recycled pid is not taken for it. */
  startTime: string;
}

export function ownerFile(dir: string): string {
  return join(dir, 'broker.owner.json');
}

export function readOwner(dir: string): BrokerOwner | undefined {
  try {
    const value = JSON.parse(readFileSync(ownerFile(dir), 'utf8')) as Partial<BrokerOwner>;
    return typeof value.pid === 'number' && typeof value.startTime === 'string'
      ? { pid: value.pid, startTime: value.startTime }
      : undefined;
  } catch {
    return undefined;
  }
}

export function writeOwner(dir: string, pid: number = process.pid): void {
  const owner: BrokerOwner = { pid, startTime: processStartTime(pid) ?? '' };
  writeFileSync(ownerFile(dir), `${JSON.stringify(owner)}\n`);
}

export function removeOwner(dir: string): void {
  rmSync(ownerFile(dir), { force: true });
}

/** True while the very process that wrote `owner` still runs. */
export function ownerIsRunning(owner: BrokerOwner): boolean {
  return isAlive(owner.pid) && processStartTime(owner.pid) === owner.startTime;
}

function processStartTime(pid: number): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count from ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
