import { clockTime } from './pace.ts';

/**
 * Kafka's own log notices that are part of a healthy start, though Kafka logs them as WARN:
 * shown as INFO so a healthy `pnpm start` prints no warning.
 */
const EXPECTED = [
  // The first start of a fresh data folder writes the cluster's bootstrap metadata.
  /Performing controller activation\. The metadata log appears to be empty/,
];

/**
 * A broker.log line (`[2026-12-01 00:39:42,125] WARN message (logger)`) in the shape of the
 * other `pnpm start` lines: `00:39:42.125 WARN  message`. Other lines pass through.
 */
export function formatBrokerLine(line: string): string {
  const match =
    /^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\] (\w+) (.*?)(?: \(([\w.$]+)\))?$/.exec(line);
  if (!match) return line;
  const [, stamp, ms, level, message] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const date = new Date(`${stamp.replace(' ', 'T')}.${ms}`);
  const time = Number.isNaN(date.getTime()) ? `${stamp.slice(11)}.${ms}` : clockTime(date);
  const shown = EXPECTED.some((pattern) => pattern.test(message)) ? 'INFO' : level;
  return `${time} ${shown.padEnd(5)} ${message}`;
}
