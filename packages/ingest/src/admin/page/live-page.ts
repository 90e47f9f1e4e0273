import type { RequestListener } from 'node:http';
import type { Clock, Config, ControlFollower, Logger } from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import { createBearerCheck } from '../bearer-token.ts';
import { createDeliveryHistory } from './delivery-history.ts';
import { loadPageAssets } from './page-assets.ts';
import { createPageHandler } from './page-handler.ts';

export interface LivePageDeps {
  config: Pick<Config, 'kafka' | 'drain' | 'dlq'>;
  kafka: Kafka;
  logger: Logger;
  clock: Clock;
  token: string;
  follower: Pick<ControlFollower, 'current' | 'counts' | 'ready'>;
  /** The admin API the page talks to, answering everything the page does not. */
  api: RequestListener;
}

/** The live page at `/ui` and the delivery history it charts (`GET /history`). */
export function createLivePage(deps: LivePageDeps): {
  handler: RequestListener;
  start(): void;
  stop(): Promise<void>;
} {
  const history = createDeliveryHistory({
    admin: deps.kafka.admin(),
    topic: deps.config.kafka.topic,
    group: deps.config.drain.group,
    dlqTopic: deps.config.dlq.topic,
    clock: deps.clock,
    logger: deps.logger,
    rate: () => deps.follower.current().desired.rate,
    // Before the follower caught up, the sum is partial: the first full one would look like a
    // burst of retries.
    retried: () => (deps.follower.ready ? deps.follower.counts().retried : undefined),
  });
  const handler = createPageHandler({
    api: deps.api,
    authorized: createBearerCheck(deps.token),
    history,
    assets: loadPageAssets,
    logger: deps.logger,
  });
  return { handler, start: () => history.start(), stop: () => history.stop() };
}
