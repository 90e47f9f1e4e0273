import {
  type ClientRequest,
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, systemClock } from '@kafka-throttle/common';
import { DrainError } from '../errors.ts';
import { classifyAnswer, describeError, ERROR_BODY_CHARS } from './http-outcome.ts';
import type { Delivery, PreparedAttempt, Sink, SinkOutcome } from './sink.ts';
import { createSinkHeaders } from './sink-headers.ts';

export interface HttpSinkOptions {
  /** The destination; a user name and password in it are sent as HTTP Basic authentication. */
  url: string;
  /** Sent with every delivery (`sink.headers`). */
  headers?: Readonly<Record<string, string>>;
  /** `whsec_…` secrets: every attempt is signed with each (Standard Webhooks). */
  signingSecrets?: readonly string[];
  /** Longest one attempt may take: to connect, and from sending to the end of the response. */
  timeoutMs: number;
  clock: Clock;
  /** Most open keep-alive connections; one is in use per partition being delivered. */
  connections?: number;
}

const STOPPING = 'aborted: the worker is stopping';

/** An attempt as the deadline watch sees it. */
interface LiveAttempt {
  /** Clock time by which it must have ended (Infinity while it waits for a permit). */
  deadline: number;
  expire(): void;
  stop(): void;
}

/**
 * POSTs each record's original body and content type to one URL over keep-alive connections,
 * with the throttle's headers (and the configured ones, credentials and signatures), and
 * classifies the answer.
 *
 * node:http rather than undici, for one reason: an attempt is prepared in two steps. First a
 * request gets a connected socket (reused or new) and writes nothing; then, once the worker
 * holds its permit, `send` writes headers and body synchronously. With undici the write happens
 * whenever its connection is ready, and on this machine that was up to 150 ms after the permit
 * (new connections, a busy event loop), enough to put N+1 arrivals in one period.
 */
export function createHttpSink(options: HttpSinkOptions): Sink {
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.connections ?? 64,
    maxFreeSockets: options.connections ?? 64,
    // The most recently used socket first: the least likely to have been closed by the server.
    scheduling: 'lifo' as const,
  };
  const agent = secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const request = secure ? httpsRequest : httpRequest;
  const headersFor = createSinkHeaders({
    url: options.url,
    clock: options.clock,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.signingSecrets ? { signingSecrets: options.signingSecrets } : {}),
  });
  const target = {
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    method: 'POST',
    agent,
  };

  /** Attempts under way (preparing, prepared or sent), each with its deadline if timed. */
  const live = new Set<LiveAttempt>();
  const watchedSignals = new WeakSet<AbortSignal>();
  let watching = false;

  /**
   * One timer for every attempt's deadline rather than one each (and one stop listener per
   * signal rather than per attempt): at thousands of attempts a second, per-attempt timers and
   * AbortSignal listeners were a fifth of the worker's CPU. Deadlines are checked every
   * `tickMs`, so an attempt ends up to that much after its timeout.
   */
  async function watchDeadlines(): Promise<void> {
    watching = true;
    const tickMs = Math.max(10, Math.min(100, options.timeoutMs / 4));
    while (live.size > 0) {
      await options.clock.sleep(tickMs);
      const now = options.clock.now();
      for (const attempt of live) {
        if (attempt.deadline <= now) attempt.expire();
      }
    }
    watching = false;
  }

  function track(attempt: LiveAttempt, signal: AbortSignal): void {
    live.add(attempt);
    if (!watching) void watchDeadlines();
    if (!watchedSignals.has(signal)) {
      watchedSignals.add(signal);
      signal.addEventListener(
        'abort',
        () => {
          for (const each of live) each.stop();
        },
        { once: true },
      );
    }
  }

  function prepare(
    delivery: Delivery,
    signal: AbortSignal,
  ): Promise<PreparedAttempt | SinkOutcome> {
    if (signal.aborted) return Promise.resolve({ kind: 'retry', error: STOPPING });
    const { envelope } = delivery;
    const attemptHeaders = headersFor(delivery);
    return new Promise((resolvePrepare) => {
      const req: ClientRequest = request({ ...target, headers: attemptHeaders.headers });
      let phase: 'preparing' | 'prepared' | 'sent' | 'done' = 'preparing';
      let lost: (() => void) | undefined;
      let resolveSend: ((outcome: SinkOutcome) => void) | undefined;
      let failure: 'timeout' | 'stopping' | undefined;
      const self: LiveAttempt = {
        deadline: options.clock.now() + options.timeoutMs,
        expire() {
          failure ??= 'timeout';
          req.destroy(new DrainError('attempt_timeout', `timeout after ${options.timeoutMs} ms`));
        },
        stop() {
          failure ??= 'stopping';
          req.destroy(new DrainError('stopping', STOPPING));
        },
      };

      const end = (outcome: SinkOutcome): void => {
        if (phase === 'done') return;
        const was = phase;
        phase = 'done';
        live.delete(self);
        if (was === 'preparing') resolvePrepare(outcome);
        else if (was === 'prepared') lost?.();
        else resolveSend?.(outcome);
      };

      track(self, signal);
      req.on('error', (error) => {
        if (failure === 'timeout')
          end({ kind: 'retry', error: `timeout after ${options.timeoutMs} ms` });
        else if (failure === 'stopping') end({ kind: 'retry', error: STOPPING });
        else end({ kind: 'retry', error: describeError(error) });
      });
      req.on('response', (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        response.on('data', (chunk: Buffer) => {
          if (kept < ERROR_BODY_CHARS * 4) chunks.push(chunk);
          kept += chunk.length;
        });
        response.on('error', (error) => end({ kind: 'retry', error: describeError(error) }));
        response.on('end', () => {
          const { statusCode, headers } = response;
          end(classifyAnswer(statusCode ?? 0, headers['retry-after'], chunks, options.clock.now()));
        });
      });
      req.once('socket', (socket: Socket) => {
        const ready = (): void => {
          if (phase !== 'preparing') return;
          phase = 'prepared';
          // Waiting for a permit has no deadline: the worker gives it up if that takes long.
          self.deadline = Number.POSITIVE_INFINITY;
          resolvePrepare(prepared);
        };
        if (socket.connecting) socket.once(secure ? 'secureConnect' : 'connect', ready);
        else ready();
      });

      const prepared: PreparedAttempt = {
        kind: 'prepared',
        send() {
          if (phase !== 'prepared') {
            return Promise.resolve({ kind: 'retry', error: 'connection closed before sending' });
          }
          phase = 'sent';
          self.deadline = options.clock.now() + options.timeoutMs;
          attemptHeaders.stamp(req);
          return new Promise((resolve) => {
            resolveSend = resolve;
            req.end(envelope.body);
          });
        },
        cancel() {
          if (phase !== 'prepared' && phase !== 'preparing') return;
          phase = 'done';
          live.delete(self);
          req.destroy();
        },
        onLost(listener) {
          lost = listener;
        },
      };
    });
  }

  return {
    name: 'http',
    prepare,
    warm: warmUp,
    async close() {
      agent.destroy();
    },
  };
}

/**
 * The first requests of a process are slow while the engine compiles the request path. Run it
 * once against a throwaway server on loopback before the first delivery; the destination sees
 * nothing of it.
 */
async function warmUp(): Promise<void> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sink = createHttpSink({
    url: `http://127.0.0.1:${port}/warm-up`,
    timeoutMs: 5000,
    clock: systemClock,
    connections: 4,
  });
  const signal = new AbortController().signal;
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        [0, 1, 2, 3].map(async (n) => {
          const prepared = await sink.prepare(
            {
              envelope: {
                id: `warm-up-${n}`,
                body: Buffer.from('{}'),
                key: null,
                contentType: 'application/json',
                receivedAt: 0,
              },
              topic: '',
              partition: n,
              offset: '0',
              attempt: 1,
            },
            signal,
          );
          if (prepared.kind === 'prepared') await prepared.send();
        }),
      );
    }
  } finally {
    await sink.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
