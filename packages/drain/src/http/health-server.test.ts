import { createLogger, type HttpLimits } from '@kafka-throttle/common';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
// The raw HTTP client ingest's tests use: fetch cannot leave a request half sent.
import { RawClient, type RawResponse } from '../../../ingest/test/support/raw-http.ts';
import { createHealthServer, type HealthServer } from './health-server.ts';

const servers: HealthServer[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(limits: Partial<HttpLimits>): Promise<number> {
  const server = createHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry: new Registry(),
    limits: { headersTimeout: 10_000, requestTimeout: 30_000, maxConnections: 100, ...limits },
    notReadyReason: () => undefined,
    status: () => ({}),
    logger: createLogger({ level: 'silent', name: 'drain-health-test' }),
  });
  servers.push(server);
  return server.listen();
}

async function open(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  clients.push(client);
  return client;
}

function expectJsonError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toContain('application/json');
  expect(JSON.parse(response.body).error.code).toBe(code);
}

const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

describe("the drain worker's health server", () => {
  it('answers 408 within a second of the headers timeout', async () => {
    const port = await serve({ headersTimeout: 1500, requestTimeout: 3000 });
    const client = await open(port);
    await client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // Node's default check interval (30 s) would answer this after up to 31.5 s.
    expectJsonError(await client.response(1500 + 1000), 408, 'request_timeout');
    await client.closedByServer();
  });

  it('answers a connection over the cap at once with 503 too_many_connections', async () => {
    const port = await serve({ maxConnections: 2 });
    const held = [await open(port), await open(port)];
    const third = await open(port);
    // Nothing sent: the answer comes from the connection alone.
    const refused = await third.response();
    expectJsonError(refused, 503, 'too_many_connections');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await third.closedByServer();
    // The probes already connected are still answered.
    await held[0]?.write(GET_HEALTHZ);
    expect((await held[0]?.response())?.status).toBe(200);
  });

  it('answers what Node refuses with a JSON error, not an empty body', async () => {
    const port = await serve({});
    const noHost = await open(port);
    await noHost.write('GET /healthz HTTP/1.1\r\n\r\n');
    expectJsonError(await noHost.response(), 400, 'bad_request');
    const garbage = await open(port);
    await garbage.write('NOT HTTP\r\n\r\n');
    expectJsonError(await garbage.response(), 400, 'bad_request');
    const expectation = await open(port);
    await expectation.write('GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n');
    expectJsonError(await expectation.response(), 417, 'expectation_failed');
  });
});
