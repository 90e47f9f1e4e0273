import type {
  ControlFollower,
  ControlWriter,
  DesiredChange,
  Logger,
  RateSetting,
} from '@kafka-throttle/common';
import { ThrottleError } from '@kafka-throttle/common';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import type { Registry } from 'prom-client';
import { readBody } from '../http/body-reader.ts';
import { isJsonContentType } from '../http/content-type.ts';
import { AdminError, toAdminError } from './admin-errors.ts';
import type { AdminReplay } from './admin-replay.ts';
import { parseChangeRequest, parseRateRequest } from './change-request.ts';
import { describeControl } from './control-view.ts';
import type { GroupStatus } from './group-status.ts';
import { parseReplayRequest } from './replay-request.ts';

export interface AdminAppDeps {
  /** True when the Authorization header carries the admin token. */
  authorized: (header: string | undefined) => boolean;
  follower: Pick<ControlFollower, 'current' | 'ready' | 'openBreakers'>;
  writer: Pick<ControlWriter, 'change'>;
  groupStatus: (rate: RateSetting) => Promise<GroupStatus>;
  /** `pnpm replay`'s run, for `POST /replay`. */
  replay: Pick<AdminReplay, 'run'>;
  registry: Registry;
  logger: Logger;
  now: () => number;
  /** Largest request body; admin requests are a few dozen bytes. */
  maxBodyBytes?: number;
  /** Longest wait for Kafka before a request is answered 503. */
  kafkaTimeoutMs?: number;
}

/**
 * The admin API (see the README's "Steering a running group"): every request needs the bearer
 * token; changes are checked in full before anything is written, so a refused request changes
 * nothing.
 */
export function createAdminApp(deps: AdminAppDeps): Koa {
  const log = deps.logger.child({ component: 'admin' });
  const maxBodyBytes = deps.maxBodyBytes ?? 4096;
  const kafkaTimeoutMs = deps.kafkaTimeoutMs ?? 10_000;
  const app = new Koa();
  const router = new Router();

  router.get('/status', async (ctx) => {
    const control = deps.follower.current();
    const queue = await withinTimeout(deps.groupStatus(control.desired.rate), 'read the group');
    const breakers = deps.follower.openBreakers().map((open) => ({
      worker: open.worker,
      reason: open.reason,
      since: new Date(open.since).toISOString(),
    }));
    ctx.body = { ...describeControl(control, deps.now()), breakers, ...queue };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.registry.contentType;
    ctx.body = await deps.registry.metrics();
  });

  router.post('/pause', async (ctx) => {
    const request = parseChangeRequest(await jsonBody(ctx));
    await change(ctx, {
      expectedVersion: request.expectedVersion,
      reason: request.reason ?? 'paused through the admin API',
      apply: (current) => ({ ...current, paused: true }),
    });
  });

  router.post('/resume', async (ctx) => {
    const request = parseChangeRequest(await jsonBody(ctx));
    await change(ctx, {
      expectedVersion: request.expectedVersion,
      reason: request.reason ?? 'resumed through the admin API',
      apply: (current) => ({ ...current, paused: false }),
    });
  });

  router.put('/rate', async (ctx) => {
    const request = parseRateRequest(await jsonBody(ctx));
    await change(ctx, {
      expectedVersion: request.expectedVersion,
      reason: request.reason ?? 'rate set through the admin API',
      apply: (current) => ({ ...current, rate: request.rate }),
    });
  });

  // Not under the Kafka timeout: a large dead-letter topic takes as long as it takes, and the
  // run keeps its progress in Kafka whatever happens to this request.
  router.post('/replay', async (ctx) => {
    const request = parseReplayRequest(await jsonBody(ctx));
    ctx.body = await deps.replay.run(request);
  });

  async function change(ctx: Context, wanted: DesiredChange): Promise<void> {
    if (!deps.follower.ready) {
      throw new AdminError('not_ready', 'the control topic has not been read yet; retry shortly');
    }
    const { state, written } = await withinTimeout(deps.writer.change(wanted), 'write the change');
    const { version, paused, rate } = state.desired;
    if (written) {
      log.info(
        { version, paused, rate, reason: wanted.reason, remote: ctx.ip },
        'control state changed',
      );
    }
    ctx.body = { changed: written, ...describeControl(state, deps.now()) };
  }

  async function jsonBody(ctx: Context): Promise<unknown> {
    const body = await readBody(ctx.req, ctx.res, maxBodyBytes);
    if (body.length === 0) return undefined;
    if (!isJsonContentType(ctx.req.headers['content-type'])) {
      throw new AdminError('unsupported_media_type', 'the Content-Type must be application/json');
    }
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new AdminError('invalid_json', 'the body is not valid JSON');
    }
  }

  function withinTimeout<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AdminError('kafka_unavailable', `could not ${what}: Kafka did not answer in time`),
          ),
        kafkaTimeoutMs,
      );
    });
    return Promise.race([
      work.catch((error: unknown) => {
        if (error instanceof ThrottleError) throw error;
        throw new AdminError('kafka_unavailable', `could not ${what}: Kafka is unavailable`, {
          cause: error,
        });
      }),
      timeout,
    ]).finally(() => clearTimeout(timer));
  }

  app.use(async (ctx, next) => {
    try {
      // Before routing: without the token, not even which routes exist is told.
      if (!deps.authorized(ctx.get('authorization') || undefined)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new AdminError('unauthorized', 'a valid bearer token is required');
      }
      await next();
      if (ctx.body == null && ctx.status >= 400) throw routingError(ctx);
    } catch (error) {
      const answer = toAdminError(error);
      if (answer.code === 'internal_error' || answer.code === 'kafka_unavailable') {
        log.error({ err: answer.cause ?? answer, path: ctx.path }, 'admin request failed');
      }
      ctx.status = answer.status;
      ctx.body = answer.toBody();
      if (!ctx.req.complete) ctx.set('Connection', 'close');
    }
    log.debug({ method: ctx.method, path: ctx.path, status: ctx.status }, 'admin request answered');
  });
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.silent = true;
  app.on('error', (error: unknown) => log.warn({ err: error }, 'error while answering'));
  return app;
}

function routingError(ctx: Context): AdminError {
  switch (ctx.status) {
    case 405:
      return new AdminError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
    case 501:
      return new AdminError('not_implemented', `${ctx.method} is not supported`);
    default:
      return new AdminError('not_found', `there is nothing at ${ctx.path}`);
  }
}
