import type { Clock } from '@kafka-throttle/common';
import type { Outcome } from './summary.ts';

export interface Tally {
  finished: number;
  accepted: number;
  rejected: number;
  errors: number;
}

export interface Progress {
  record(outcome: Outcome): void;
  finish(): void;
}

interface ProgressOptions {
  total: number;
  write: (text: string) => void;
  /** A terminal gets a bar redrawn in place; anything else gets a plain line per tenth. */
  isTTY: boolean;
  clock: Clock;
  /** Shortest time between two redraws of the bar. */
  redrawMs?: number;
}

/** `[#########-----------]  45/100  accepted 44  rejected 1  errors 0` */
export function renderBar(tally: Tally, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.floor((tally.finished / total) * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const done = String(tally.finished).padStart(String(total).length);
  return `[${bar}] ${done}/${total}  accepted ${tally.accepted}  rejected ${tally.rejected}  errors ${tally.errors}`;
}

/** Reports progress on stderr while requests finish. */
export function createProgress(options: ProgressOptions): Progress {
  const { total, write, isTTY, clock } = options;
  const redrawMs = options.redrawMs ?? 100;
  const tally: Tally = { finished: 0, accepted: 0, rejected: 0, errors: 0 };
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastTenth = 0;

  const draw = (): void => {
    if (isTTY) write(`\r${renderBar(tally, total)}`);
    else write(`${renderBar(tally, total)}\n`);
  };

  return {
    record(outcome) {
      tally.finished += 1;
      if (outcome.kind === 'error') tally.errors += 1;
      else if (outcome.status >= 200 && outcome.status < 300) tally.accepted += 1;
      else tally.rejected += 1;
      if (isTTY) {
        const now = clock.now();
        if (now - lastDraw >= redrawMs || tally.finished === total) {
          lastDraw = now;
          draw();
        }
        return;
      }
      const tenth = Math.floor((tally.finished * 10) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        draw();
      }
    },
    finish() {
      if (isTTY) {
        draw();
        write('\n');
      } else if (lastTenth < 10) {
        draw();
      }
    },
  };
}
