import {
  type Logger,
  MissingTopicError,
  type ReplaySummary,
  runReplay,
  ThrottleError,
} from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import { AdminError } from './admin-errors.ts';
import type { ReplayRequest } from './replay-request.ts';

export interface AdminReplayOptions {
  kafka: Kafka;
  topic: string;
  dlqTopic: string;
  logger: Logger;
}

/** What `POST /replay` answers: how many moved (or would, in a dry run). */
export interface ReplayAnswer extends ReplaySummary {
  dryRun: boolean;
}

export interface AdminReplay {
  /** Runs `pnpm replay`'s logic; AdminError `replay_running` while another run is under way. */
  run(request: ReplayRequest): Promise<ReplayAnswer>;
  /** Stops a run after its batch under way (its progress is kept) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Replay from the admin API: the same run as `pnpm replay` (progress kept in Kafka per filter,
 * so it may be interrupted and repeated), one at a time, since two runs of one filter would
 * share a progress group and split its partitions between them.
 */
export function createAdminReplay(options: AdminReplayOptions): AdminReplay {
  const logger = options.logger.child({ component: 'replay' });
  const stopping = new AbortController();
  let running: Promise<unknown> | undefined;

  async function replay(request: ReplayRequest): Promise<ReplayAnswer> {
    const { dryRun, filters } = request;
    try {
      const summary = await runReplay({
        kafka: options.kafka,
        topic: options.topic,
        dlqTopic: options.dlqTopic,
        filters,
        dryRun,
        logger,
        signal: stopping.signal,
        onRecord: ({ info, partition, offset }) => {
          if (dryRun) return;
          logger.info(
            { id: info.id, reason: info.reason, dlqPartition: partition, dlqOffset: offset },
            'dead letter replayed into the request topic',
          );
        },
      });
      logger.info({ ...summary, dryRun, filters }, dryRun ? 'replay dry run' : 'replay done');
      return { dryRun, ...summary };
    } catch (error) {
      if (error instanceof MissingTopicError) {
        throw new AdminError('topic_missing', `cannot replay: ${error.message}`, { cause: error });
      }
      if (error instanceof ThrottleError) throw error;
      throw new AdminError('kafka_unavailable', 'could not replay: Kafka is unavailable', {
        cause: error,
      });
    }
  }

  return {
    run(request) {
      if (running) {
        throw new AdminError('replay_running', 'a replay is under way; wait for it to end');
      }
      if (stopping.signal.aborted) throw new AdminError('not_ready', 'the server is stopping');
      const run = replay(request);
      running = run.finally(() => {
        running = undefined;
      });
      return run;
    },
    async stop() {
      stopping.abort();
      await running?.catch(() => undefined);
    },
  };
}
