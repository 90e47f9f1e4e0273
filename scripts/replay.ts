import {
  createKafkaClient,
  createLogger,
  loadConfigOrExit,
  MissingTopicError,
  type ReplayedRecord,
  runReplay,
} from '@kafka-throttle/common';
import { logLevel } from 'kafkajs';
import { ArgumentError, parseReplayArgs, USAGE } from './replay/args.ts';

/** One line of stdout per record: what moved (or would), from where, and why it was dead. */
function describe({ info, partition, offset }: ReplayedRecord, dryRun: boolean): string {
  const status = info.status ? ` status=${info.status}` : '';
  const attempts = info.attempts ? ` attempts=${info.attempts}` : '';
  return `${dryRun ? 'would move' : 'moved'} ${partition}@${offset} id=${info.id} reason=${info.reason}${status}${attempts} dead-lettered=${new Date(info.at).toISOString()}`;
}

/**
 * `pnpm replay`: moves dead letters back into the request topic (same id, same bytes, a replay
 * count header). Exit 0 when done, 2 for a bad argument or a missing topic (nothing moved).
 */
async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseReplayArgs>;
  try {
    args = parseReplayArgs(argv);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    process.stderr.write(`replay: ${error.message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfigOrExit({ env: process.env, args: [] });
  // Logs (warnings) on stderr: stdout is the list of what moved, for a pipe.
  const logger = createLogger({
    level: config.log.level,
    name: 'replay',
    destination: process.stderr,
  });
  const kafka = createKafkaClient({
    kafka: config.kafka,
    role: 'replay',
    logger,
    overrides: { logLevel: logLevel.WARN },
  });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    const summary = await runReplay({
      kafka,
      topic: args.topic ?? config.kafka.topic,
      dlqTopic: args.dlqTopic ?? config.dlq.topic,
      filters: args.filters,
      dryRun: args.dryRun,
      logger,
      onRecord: (record) => process.stdout.write(`${describe(record, args.dryRun)}\n`),
      signal: stop.signal,
    });
    process.stderr.write(
      `replay: ${args.dryRun ? 'would move' : 'moved'} ${summary.moved}, left ${summary.filtered} (filter), skipped ${summary.malformed} (not drain's); progress group ${summary.group}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof MissingTopicError) {
      const flag = error.which === 'topic' ? '--topic' : '--dlq-topic';
      process.stderr.write(`replay: ${flag}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
