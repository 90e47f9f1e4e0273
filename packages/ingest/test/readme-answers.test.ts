import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../src/errors.ts';
import { MAX_HEADER_BYTES } from '../src/http/http-server.ts';
import { type AppServer, startAppServer } from './support/app-server.ts';
import { RawClient } from './support/raw-http.ts';

/**
 * The README's table of answers, row by row, against a running ingest (the real app and HTTP
 * server, a fake producer behind them): a row nobody checks, or an answer ingest can give that
 * the table does not list, fails here.
 */
const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

interface Row {
  request: string;
  answer: string;
  status: number;
  /** The codes the row allows: "`400 a` or `400 b`" allows either. */
  codes: (string | undefined)[];
}

function answerRows(text: string): Row[] {
  const start = text.indexOf('<!-- answers-table:start');
  const end = text.indexOf('<!-- answers-table:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no answers-table markers');
  return text
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) => {
      const [request = '', answer = ''] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      const first = /^`(\d{3})(?: ([a-z_]+))?/.exec(answer);
      if (!first) throw new Error(`answer without a leading status: ${answer}`);
      const status = Number(first[1]);
      const others = [...answer.matchAll(/`(\d{3}) ([a-z_]+)`/g)]
        .filter((m) => Number(m[1]) === status)
        .map((m) => m[2]);
      return { request, answer, status, codes: [...new Set([first[2], ...others])] };
    });
}

interface Seen {
  status: number;
  code: string | undefined;
  headers: Record<string, string>;
}

const LIMIT = 1024;
let server: AppServer;

async function raw(target: AppServer, bytes: string | Buffer): Promise<Seen> {
  const client = await RawClient.open(target.port);
  try {
    await client.write(bytes);
    const response = await client.response(15_000);
    const code = response.body ? JSON.parse(response.body).error?.code : undefined;
    return { status: response.status, code, headers: response.headers };
  } finally {
    client.destroy();
  }
}

async function viaFetch(path: string, init: RequestInit = {}): Promise<Seen> {
  const response = await fetch(`${server.url}${path}`, init);
  const text = await response.text();
  const json = text.startsWith('{') ? JSON.parse(text) : {};
  return {
    status: response.status,
    code: json.error?.code,
    headers: Object.fromEntries(response.headers),
  };
}

const JSON_TYPE = { 'content-type': 'application/json' };
const postJson = (body: string, headers: Record<string, string> = {}): Promise<Seen> =>
  viaFetch('/', { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body });
const head = (extra: string, length: number): string =>
  `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${extra}Content-Length: ${length}\r\n\r\n`;

const probes: Record<string, () => Promise<Seen>> = {
  '`POST /` with `Content-Type: application/json` and any JSON value up to `ingest.maxBodyBytes`':
    () => postJson(JSON.stringify({ pad: 'x'.repeat(LIMIT - 20) })),
  '`Expect: 100-continue` on a request ingest will read': () =>
    raw(server, head('Expect: 100-continue\r\n', 2)),
  '`GET /healthz`, `GET /readyz` while connected to Kafka with the topic present': async () => {
    const health = await viaFetch('/healthz');
    const ready = await viaFetch('/readyz');
    return health.status === ready.status ? ready : health;
  },
  'header `X-Throttle-Key: k`': () => postJson('{}', { 'x-throttle-key': 'k' }),
  'header `Idempotency-Key: x`': () => postJson('{}', { 'idempotency-key': 'readme-x' }),
  'the same `Idempotency-Key` again with the same body': async () => {
    await postJson('{"same":1}', { 'idempotency-key': 'readme-same' });
    return postJson('{"same":1}', { 'idempotency-key': 'readme-same' });
  },
  'the same `Idempotency-Key` with a different body within `ingest.idempotencyWindow`':
    async () => {
      await postJson('{"v":1}', { 'idempotency-key': 'readme-conflict' });
      return postJson('{"v":2}', { 'idempotency-key': 'readme-conflict' });
    },
  'invalid JSON, invalid UTF-8, empty body, nesting deeper than 128': () => postJson('{"a":nope}'),
  '`X-Throttle-Key` or `Idempotency-Key` sent twice, empty, over 256 characters, or not printable ASCII':
    () => raw(server, Buffer.from(`${head('Idempotency-Key: é\r\n', 2)}{}`, 'utf8')),
  'a request that is not HTTP/1.1, or has no `Host` header': () =>
    raw(server, 'POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'),
  'a `Content-Length` shorter than the bytes that follow': () =>
    raw(server, `${head('', 5)}{"a":${'1'.repeat(100)}}`),
  "body over the limit (declared by `Content-Length` or chunked), or a record over the topic's `max.message.bytes`":
    () => raw(server, head('', LIMIT + 1)),
  'another content type': () =>
    viaFetch('/', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }),
  '`Expect` other than `100-continue`': () => raw(server, `${head('Expect: foo\r\n', 2)}{}`),
  'request line and headers over 16 KiB': () =>
    raw(server, `${head(`X-Pad: ${'p'.repeat(MAX_HEADER_BYTES)}\r\n`, 2)}{}`),
  'headers not in within `ingest.headersTimeout`, or the whole request not within `ingest.requestTimeout`':
    // Never completes the request: the answer can only come from a timeout.
    () => raw(server, 'POST / HTTP/1.1\r\nHost: x\r\n'),
  'a request carrying `X-Throttle-Id` or `X-Throttle-Attempt`: a delivery of our own coming back':
    () => postJson('{}', { 'x-throttle-id': 'abc', 'x-throttle-attempt': '1' }),
  'Kafka down or slower than `ingest.ackTimeout`': async () => {
    server.producer.behaviour = 'fail';
    try {
      return await postJson('{}');
    } finally {
      server.producer.behaviour = 'ack';
    }
  },
  'any request while ingest is stopping': async () => {
    server.stopping.value = true;
    try {
      return await postJson('{}');
    } finally {
      server.stopping.value = false;
    }
  },
  'a connection beyond `ingest.maxConnections` open ones': async () => {
    const capped = await startAppServer({ limits: { maxConnections: 1 } });
    const holder = await RawClient.open(capped.port);
    try {
      return await raw(capped, '');
    } finally {
      holder.destroy();
      await capped.close();
    }
  },
  '`GET /readyz` while Kafka is unreachable or the topic is missing': async () => {
    server.readiness.state = { ready: false, reason: 'Kafka is unreachable' };
    try {
      return await viaFetch('/readyz');
    } finally {
      server.readiness.state = { ready: true };
    }
  },
  'other routes': () => viaFetch('/nope'),
  'other methods, `CONNECT` included': () => viaFetch('/', { method: 'GET' }),
  'a method no route knows, such as `PROPFIND`': () =>
    raw(server, 'PROPFIND / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'),
  '`OPTIONS` on a route': () => viaFetch('/', { method: 'OPTIONS' }),
  'a bug in ingest': async () => {
    // A readiness that breaks its own contract stands in for a bug.
    server.readiness.state = undefined as never;
    try {
      return await viaFetch('/readyz');
    } finally {
      server.readiness.state = { ready: true };
    }
  },
};

beforeAll(async () => {
  server = await startAppServer({
    maxBodyBytes: LIMIT,
    idempotencyWindow: 60_000,
    limits: { headersTimeout: 1000, requestTimeout: 1500 },
  });
});
afterAll(() => server.close());

const rows = answerRows(readme);

describe("the README's table of answers", () => {
  it('has a check for every row and a row for every check', () => {
    expect(rows.map((r) => r.request).sort()).toEqual(Object.keys(probes).sort());
  });

  it('lists every error code ingest answers with', () => {
    const listed = new Set(rows.flatMap((r) => r.codes));
    // 499 is never sent: the client has gone; it only shows in the metrics.
    const answered = Object.keys(ERROR_STATUS).filter((code) => code !== 'client_closed');
    expect(answered.filter((code) => !listed.has(code))).toEqual([]);
    for (const row of rows) {
      for (const code of row.codes) {
        if (code) expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS]).toBe(row.status);
      }
    }
  });

  it.each(rows.map((row) => [row.request, row]))('%s', async (_, row) => {
    const probe = probes[row.request];
    if (!probe) throw new Error(`no check for the row "${row.request}"`);
    const seen = await probe();
    expect(seen.status).toBe(row.status);
    expect(row.codes).toContain(seen.code);
    if (row.answer.includes('with `Retry-After`'))
      expect(seen.headers['retry-after']).toBeDefined();
    if (row.answer.includes('without `Retry-After`')) {
      expect(seen.headers['retry-after']).toBeUndefined();
    }
    if (row.answer.includes('with `Allow`')) expect(seen.headers.allow).toBeDefined();
  });
});
