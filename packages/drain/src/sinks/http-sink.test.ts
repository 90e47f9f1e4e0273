import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '@kafka-throttle/common';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverNow } from '../../test/support/deliver-now.ts';
import { createHttpSink } from './http-sink.ts';
import type { Delivery } from './sink.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) => {
          s.closeAllConnections();
          s.close(resolve);
        }),
    ),
  );
});

/** A destination on loopback that answers with `answer` and records what it got. */
async function destination(
  answer: (
    seen: Seen,
  ) => { status: number; headers?: Record<string, string>; body?: string } | 'hang',
) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      const reply = answer(entry);
      if (reply === 'hang') return;
      response.writeHead(reply.status, reply.headers);
      response.end(reply.body ?? '');
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`, seen };
}

const delivery: Delivery = {
  envelope: {
    id: 'a1b2',
    body: Buffer.from('{"hello":"wörld"}'),
    key: 'k',
    contentType: 'application/json; charset=utf-8',
    receivedAt: 1_764_000_000_123,
  },
  topic: 't',
  partition: 2,
  offset: '41',
  attempt: 3,
};
const live = new AbortController().signal;

/** Where a destination listened a moment ago: connecting there is refused. */
async function closedUrl(): Promise<string> {
  const dest = await destination(() => ({ status: 200 }));
  const closed = servers.pop() as Server;
  await new Promise((resolve) => closed.close(resolve));
  return dest.url;
}

describe('createHttpSink', () => {
  it('POSTs the original body and content type with the throttle headers', async () => {
    const dest = await destination(() => ({ status: 204 }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    await sink.warm?.();
    expect(dest.seen).toHaveLength(0);
    expect(await deliverNow(sink, delivery, live)).toEqual({ kind: 'delivered', status: 204 });
    await sink.close();
    expect(dest.seen).toHaveLength(1);
    const [request] = dest.seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hook?x=1');
    expect(request?.body).toBe('{"hello":"wörld"}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-throttle-id': 'a1b2',
      'x-throttle-attempt': '3',
      'x-throttle-received-at': '1764000000123',
      'idempotency-key': 'a1b2',
    });
  });

  it.each([408, 425, 429, 500, 503])('asks for a retry on %i', async (status) => {
    const dest = await destination(() => ({ status, body: 'busy' }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    expect(await deliverNow(sink, delivery, live)).toEqual({
      kind: 'retry',
      status,
      error: `HTTP ${status}: busy`,
    });
    await sink.close();
  });

  it('passes Retry-After on as a wait', async () => {
    const dest = await destination(() => ({ status: 429, headers: { 'retry-after': '2' } }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    expect(await deliverNow(sink, delivery, live)).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 2000,
    });
    await sink.close();
  });

  it.each([400, 404, 422])('rejects the record on %i', async (status) => {
    const dest = await destination(() => ({ status, body: '{"error":"no"}' }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    expect(await deliverNow(sink, delivery, live)).toEqual({
      kind: 'reject',
      status,
      error: `HTTP ${status}: {"error":"no"}`,
    });
    await sink.close();
  });

  it('gives up an attempt after the timeout and asks for a retry', async () => {
    const dest = await destination(() => 'hang');
    const sink = createHttpSink({ url: dest.url, timeoutMs: 200, clock: systemClock });
    expect(await deliverNow(sink, delivery, live)).toEqual({
      kind: 'retry',
      error: 'timeout after 200 ms',
    });
    await sink.close();
  });

  it('asks for a retry when the destination cannot be reached', async () => {
    const sink = createHttpSink({ url: await closedUrl(), timeoutMs: 2000, clock: systemClock });
    const outcome = await deliverNow(sink, delivery, live);
    expect(outcome.kind).toBe('retry');
    expect(outcome.kind === 'retry' && outcome.error).toMatch(/ECONNREFUSED/);
    await sink.close();
  });

  it('sends nothing while prepared, and nothing at all when given up', async () => {
    const dest = await destination(() => ({ status: 200 }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    const first = await sink.prepare(delivery, live);
    const second = await sink.prepare({ ...delivery, attempt: 4 }, live);
    expect(first.kind).toBe('prepared');
    expect(second.kind).toBe('prepared');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(dest.seen).toHaveLength(0);
    if (first.kind === 'prepared') first.cancel();
    if (second.kind === 'prepared')
      expect(await second.send()).toMatchObject({ kind: 'delivered' });
    expect(dest.seen.map((s) => s.headers['x-throttle-attempt'])).toEqual(['4']);
    await sink.close();
  });

  it('fails before sending when the destination refuses the connection', async () => {
    const sink = createHttpSink({ url: await closedUrl(), timeoutMs: 2000, clock: systemClock });
    const prepared = await sink.prepare(delivery, live);
    expect(prepared).toMatchObject({ kind: 'retry', error: expect.stringMatching(/ECONNREFUSED/) });
    await sink.close();
  });

  it('says so when a prepared connection is closed by the destination before sending', async () => {
    const dest = await destination(() => ({ status: 200 }));
    const sink = createHttpSink({ url: dest.url, timeoutMs: 5000, clock: systemClock });
    const prepared = await sink.prepare(delivery, live);
    if (prepared.kind !== 'prepared') throw new Error('not prepared');
    const lost = new Promise<void>((resolve) => prepared.onLost(resolve));
    for (const server of servers) server.closeAllConnections();
    await lost;
    expect(await prepared.send()).toMatchObject({ kind: 'retry' });
    expect(dest.seen).toHaveLength(0);
    await sink.close();
  });

  it('ends an attempt when the worker stops', async () => {
    const dest = await destination(() => 'hang');
    const sink = createHttpSink({ url: dest.url, timeoutMs: 60_000, clock: systemClock });
    const stop = new AbortController();
    const prepared = await sink.prepare(delivery, stop.signal);
    if (prepared.kind !== 'prepared') throw new Error('not prepared');
    const pending = prepared.send();
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    expect(await pending).toEqual({ kind: 'retry', error: 'aborted: the worker is stopping' });
    await sink.close();
  });

  it('sends the user name and password of the URL as Basic authentication, not in the URL', async () => {
    const dest = await destination(() => ({ status: 200 }));
    const url = dest.url.replace('http://', 'http://us%40er:p%3Aw%20d@');
    const sink = createHttpSink({ url, timeoutMs: 5000, clock: systemClock });
    expect(await deliverNow(sink, delivery, new AbortController().signal)).toMatchObject({
      kind: 'delivered',
    });
    await sink.close();
    const [request] = dest.seen;
    expect(request?.url).toBe('/hook?x=1');
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from('us@er:p:w d').toString('base64')}`,
    );
  });

  it('sends the configured headers with every attempt, beside its own', async () => {
    const dest = await destination(() => ({ status: 200 }));
    const sink = createHttpSink({
      url: dest.url,
      headers: { Authorization: 'Bearer t0k', 'X-Api-Key': 'k-1' },
      timeoutMs: 5000,
      clock: systemClock,
    });
    await deliverNow(sink, delivery, new AbortController().signal);
    await deliverNow(sink, { ...delivery, attempt: 4 }, new AbortController().signal);
    await sink.close();
    expect(dest.seen).toHaveLength(2);
    for (const request of dest.seen) {
      expect(request.headers).toMatchObject({
        authorization: 'Bearer t0k',
        'x-api-key': 'k-1',
        'x-throttle-id': 'a1b2',
        'idempotency-key': 'a1b2',
      });
      expect(request.headers['webhook-signature']).toBeUndefined();
    }
  });

  it('signs each attempt at the time it is sent, not when it was prepared', async () => {
    const dest = await destination(() => ({ status: 200 }));
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    let now = Date.now();
    const clock: Clock = { now: () => now, sleep: systemClock.sleep };
    const sink = createHttpSink({
      url: dest.url,
      signingSecrets: [secret],
      timeoutMs: 5000,
      clock,
    });
    const prepared = await sink.prepare(delivery, new AbortController().signal);
    if (prepared.kind !== 'prepared') throw new Error('not prepared');
    // The permit came 2.5 s later: the signature must carry that second.
    now += 2500;
    await prepared.send();
    expect(
      await deliverNow(sink, { ...delivery, attempt: 4 }, new AbortController().signal),
    ).toMatchObject({
      kind: 'delivered',
    });
    await sink.close();
    expect(dest.seen).toHaveLength(2);
    for (const request of dest.seen) {
      expect(request.headers['webhook-id']).toBe('a1b2');
      expect(request.headers['webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
      const verified = new Webhook(secret).verify(request.body, {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      });
      expect(verified).toEqual({ hello: 'wörld' });
    }
  });
});
