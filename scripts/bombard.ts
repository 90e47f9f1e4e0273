import { systemClock } from '@kafka-throttle/common';
import { parseBombardArgs, USAGE, UsageError } from './bombard/options.ts';
import { createPoster } from './bombard/post.ts';
import { createProgress } from './bombard/progress.ts';
import { runRequests } from './bombard/run.ts';
import { allAccepted, formatSummary, summarize } from './bombard/summary.ts';

/**
 * `pnpm bombard`: the original `make bombard_server` (100 POSTs of {"number": i} to
 * http://localhost:8080/), with flags, a progress bar and a summary. Exit 1 when anything was
 * not accepted, 2 for bad flags.
 */
async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseBombardArgs>;
  try {
    parsed = parseBombardArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bombard: ${error.message}\nRun "pnpm bombard --help" for the options.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { options } = parsed;
  const rate = options.rate === undefined ? '' : `, at most ${options.rate}/s`;
  process.stderr.write(
    `bombard: ${options.count} POSTs to ${options.url}, ${options.concurrency} at a time${rate}\n`,
  );

  // Ctrl-C stops sending; the requests in flight finish and the summary still prints.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const progress = createProgress({
    total: options.count,
    write: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    clock: systemClock,
  });
  const { outcomes, elapsedMs } = await runRequests(
    options,
    createPoster(options.url, options.timeoutMs),
    { clock: systemClock, signal: stop.signal, onOutcome: (outcome) => progress.record(outcome) },
  );
  progress.finish();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const summary = summarize(outcomes, elapsedMs);
  process.stdout.write(`\n${formatSummary(summary)}\n`);
  if (stop.signal.aborted) {
    process.stderr.write(`bombard: interrupted after ${outcomes.length} of ${options.count}\n`);
  }
  if (allAccepted(summary) && outcomes.length === options.count) return 0;
  process.stderr.write(
    `bombard: ${summary.sent - summary.accepted} of ${summary.sent} requests were not accepted\n`,
  );
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bombard: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
