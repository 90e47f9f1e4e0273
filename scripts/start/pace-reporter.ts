import type { Config } from '@kafka-throttle/common';
import {
  type DrainNumbers,
  type PaceWindow,
  paceLine,
  parseDrainMetrics,
  RecentDeliveries,
  worthShowing,
} from './pace.ts';

export interface PaceReporter {
  /** A delivery the drain worker printed, at the time the sink took it. */
  delivered(timeMs: number): void;
  /** Starts reporting once drain's health and metrics port is known. */
  watch(drainPort: number): void;
  stop(): void;
}

export interface PaceReporterOptions {
  say: (text: string) => void;
  /** The services' configuration (rate.messages, rate.period); undefined when invalid. */
  config: Pick<Config, 'rate'> | undefined;
}

// Shorter periods are summed up to about a second: one line per 10 ms would bury the deliveries.
const MIN_REPORT_MS = 1000;

/** Prints the pace line once per period while drain has a backlog (see pace.ts). */
export function startPaceReporter(options: PaceReporterOptions): PaceReporter {
  // An invalid configuration stops the services with its own message; the defaults do here.
  const rate = options.config?.rate ?? { messages: 5, period: 5000 };
  const periods = Math.ceil(MIN_REPORT_MS / rate.period);
  const windowMs = rate.period * periods;
  const recent = new RecentDeliveries(windowMs * 2);
  let timer: NodeJS.Timeout | undefined;
  let busy = false;

  const report = async (port: number): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const numbers = await fetchNumbers(port);
      if (numbers === undefined) return;
      const now = Date.now();
      const window: PaceWindow = {
        periodMs: windowMs,
        delivered: recent.countWithin(windowMs, now),
        configuredLimit: rate.messages * periods,
        numbers: {
          ...numbers,
          share: numbers.share === undefined ? undefined : numbers.share * periods,
        },
      };
      if (worthShowing(window)) options.say(paceLine(window, new Date(now)));
    } finally {
      busy = false;
    }
  };

  return {
    delivered: (timeMs) => recent.record(timeMs),
    watch(port) {
      clearInterval(timer);
      timer = setInterval(() => void report(port), windowMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

async function fetchNumbers(port: number): Promise<DrainNumbers | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    const text = await response.text();
    return response.ok ? parseDrainMetrics(text) : undefined;
  } catch {
    return undefined; // drain is starting or stopping; the next period tries again
  }
}
