import { randomUUID } from 'node:crypto';
import { type Clock, type Logger, toKafkaMessage } from '@kafka-throttle/common';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { errorBody, IngestError, kafkaUnavailable, toIngestError } from '../errors.ts';
import type { ProduceBatcher } from '../kafka/produce-batcher.ts';
import type { Placement } from '../kafka/produce-port.ts';
import type { RecordSizeLimit } from '../kafka/record-size-limit.ts';
import type { IngestMetrics } from '../metrics.ts';
import type { Readiness } from '../readiness.ts';
import { readBody } from './body-reader.ts';
import { isJsonContentType } from './content-type.ts';
import type { IdempotencyGuard } from './idempotency-guard.ts';
import { MAX_JSON_DEPTH, validateJson } from './json-validation.ts';
import { toEnvelope } from './request-envelope.ts';
import { createRequestTracker, type RequestTracker } from './request-tracker.ts';

export interface AppDeps {
  batcher: Pick<ProduceBatcher, 'submit'>;
  readiness: Pick<Readiness, 'status' | 'topicsReady'>;
  metrics: IngestMetrics;
  logger: Logger;
  clock: Clock;
  maxBodyBytes: number;
  maxJsonDepth?: number;
  /** Ids for requests without an `Idempotency-Key`. */
  newId?: () => string;
  /** True once a graceful stop began: new requests are turned away. */
  isStopping?: () => boolean;
  tracker?: RequestTracker;
  /** Refuses an Idempotency-Key reused with another body; unchecked without it. */
  idempotency?: IdempotencyGuard;
  /** Kafka's limit on a record, once known. */
  recordSize?: Pick<RecordSizeLimit, 'maxRecordBytes'>;
  /** Serve GET /metrics here (default true); off when the admin server serves them instead. */
  publicMetrics?: boolean;
}

const ROUTES = new Set(['/', '/healthz', '/readyz', '/metrics']);
const EMPTY = Buffer.alloc(0);

/**
 * Record framing besides body, key and header values (lengths, timestamp, header names and
 * `received-at`): about 80 bytes, rounded up so the estimate bounds the real size.
 */
const RECORD_OVERHEAD_BYTES = 100;

/**
 * The ingest HTTP API (the README's "Sending requests" lists every answer): `POST /` answers 202 once Kafka acknowledged the record,
 * a JSON error otherwise; `/healthz`, `/readyz` and `/metrics` for operators.
 */
export function createApp(deps: AppDeps): Koa {
  const { batcher, readiness, metrics, clock } = deps;
  const log = deps.logger.child({ component: 'http' });
  const newId = deps.newId ?? randomUUID;
  const isStopping = deps.isStopping ?? (() => false);
  const tracker = deps.tracker ?? createRequestTracker();
  const maxJsonDepth = deps.maxJsonDepth ?? MAX_JSON_DEPTH;

  const app = new Koa();
  const router = new Router();

  router.post('/', async (ctx) => {
    if (isStopping()) throw new IngestError('shutting_down', 'ingest is stopping');
    const contentType = ctx.req.headers['content-type'];
    const receivedAt = clock.now();
    // Headers are checked before the body is read: a bad key costs the client no upload.
    const envelope = toEnvelope({
      rawHeaders: ctx.req.rawHeaders,
      contentType,
      body: EMPTY,
      receivedAt,
      newId,
    });
    if (!isJsonContentType(contentType)) {
      throw new IngestError('unsupported_media_type', 'the Content-Type must be application/json');
    }
    envelope.body = await readBody(ctx.req, ctx.res, deps.maxBodyBytes);
    validateJson(envelope.body, maxJsonDepth);
    const bytes = recordBytes(envelope);
    const kafkaMax = deps.recordSize?.maxRecordBytes ?? Number.POSITIVE_INFINITY;
    if (bytes > kafkaMax) {
      throw new IngestError(
        'body_too_large',
        `the record would be ${bytes} bytes; Kafka takes at most ${kafkaMax} for this topic`,
      );
    }
    if (!readiness.topicsReady) {
      throw kafkaUnavailable('Kafka has not been reached yet since ingest started');
    }
    const release =
      deps.idempotency && hasIdempotencyKey(ctx.req.rawHeaders)
        ? deps.idempotency.claim(envelope.id, envelope.body)
        : undefined;
    let placement: Placement;
    try {
      placement = await batcher.submit(toKafkaMessage(envelope), bytes);
    } catch (error) {
      release?.();
      throw error;
    }
    ctx.status = 202;
    ctx.body = { status: 'accepted', id: envelope.id, ...placement };
    ctx.state.record = { id: envelope.id, bytes: envelope.body.length, ...placement };
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', (ctx) => {
    const status = isStopping()
      ? { ready: false as const, reason: 'ingest is stopping' }
      : readiness.status();
    ctx.status = status.ready ? 200 : 503;
    // The error body every 503 has, plus the status field probes have always read.
    ctx.body = status.ready
      ? { status: 'ready' }
      : { status: 'not_ready', reason: status.reason, ...errorBody('not_ready', status.reason) };
  });

  if (deps.publicMetrics ?? true) {
    router.get('/metrics', async (ctx) => {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.render();
    });
  }

  app.use(async (ctx, next) => {
    tracker.begin();
    metrics.inFlight.inc();
    const route = ROUTES.has(ctx.path) ? ctx.path : 'other';
    const stopTimer = metrics.httpDuration.startTimer({ route });
    try {
      await next();
      if (ctx.body == null && ctx.status >= 400) throw routingError(ctx);
      // The router answers OPTIONS with 200 and an empty text body; nothing is the right body.
      if (ctx.method === 'OPTIONS' && ctx.status === 200 && ctx.response.get('Allow')) {
        ctx.status = 204;
      }
    } catch (error) {
      answerError(ctx, toIngestError(error));
    } finally {
      if (isStopping()) ctx.set('Connection', 'close');
      const seconds = stopTimer();
      const status = ctx.state.clientClosed ? 499 : ctx.status;
      metrics.httpRequests.inc({ route, method: ctx.method, status });
      metrics.inFlight.dec();
      tracker.end();
      if (log.isLevelEnabled('debug')) {
        log.debug(
          { method: ctx.method, path: ctx.path, status, ms: seconds * 1000, ...ctx.state.record },
          'request answered',
        );
      }
    }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  // Errors are answered above; what reaches Koa's handler happened while writing a response.
  app.silent = true;
  app.on('error', (error: unknown) => log.warn({ err: error }, 'error while answering'));

  function answerError(ctx: Context, error: IngestError): void {
    if (error.code === 'client_closed') {
      // Nobody is left to answer; only the metrics and the debug line learn about it.
      ctx.state.clientClosed = true;
      ctx.respond = false;
      return;
    }
    if (error.code === 'internal_error') {
      log.error({ err: error.cause ?? error, path: ctx.path }, 'request failed unexpectedly');
    }
    ctx.status = error.status;
    ctx.body = error.toBody();
    const retryAfter = error.retryAfterSeconds;
    if (retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
    // Refused before its body was read in full: the rest of the body is not worth reading.
    if (error.closesConnection || !ctx.req.complete) ctx.set('Connection', 'close');
  }

  return app;
}

/** Turns the router's bare 404/405/501 into the API's JSON errors (Allow stays set). */
function routingError(ctx: Context): IngestError {
  switch (ctx.status) {
    case 405:
      return new IngestError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
    case 501:
      return new IngestError('not_implemented', `${ctx.method} is not supported`);
    default:
      return new IngestError('not_found', `there is nothing at ${ctx.path}`);
  }
}

function hasIdempotencyKey(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.length === 15 && rawHeaders[i]?.toLowerCase() === 'idempotency-key') {
      return true;
    }
  }
  return false;
}

/** An upper bound of the record's size in Kafka (key and ids are ASCII: one byte a char). */
function recordBytes(envelope: {
  id: string;
  key: string | null;
  body: Buffer;
  contentType: string;
}): number {
  return (
    envelope.body.length +
    envelope.id.length +
    (envelope.key?.length ?? 0) +
    envelope.contentType.length +
    RECORD_OVERHEAD_BYTES
  );
}
