import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '@kafka-throttle/common';
import { afterEach, describe, expect, it } from 'vitest';
import { createPoster } from './post.ts';
import { runRequests } from './run.ts';

const servers: { close(): void; closeAllConnections(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function serve(
  answer: (body: unknown) => number,
): Promise<{ url: string; bodies: unknown[]; sockets: () => number }> {
  const bodies: unknown[] = [];
  let sockets = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body: unknown = JSON.parse(text);
    bodies.push(body);
    res.writeHead(answer(body), { 'content-type': 'application/json' }).end('{}');
  });
  server.on('connection', () => {
    sockets += 1;
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, bodies, sockets: () => sockets };
}

describe('createPoster against a local HTTP server', () => {
  it('POSTs {"number": n} as JSON over kept-alive connections', async () => {
    const server = await serve(() => 202);
    const { outcomes } = await runRequests(
      { count: 30, concurrency: 3, rate: undefined },
      createPoster(server.url, 5000),
      { clock: systemClock },
    );
    expect(outcomes.every((o) => o.kind === 'response' && o.status === 202)).toBe(true);
    expect(server.bodies).toHaveLength(30);
    expect(new Set(server.bodies.map((b) => JSON.stringify(b)))).toEqual(
      new Set(Array.from({ length: 30 }, (_, i) => JSON.stringify({ number: i + 1 }))),
    );
    // A fresh connection per request would be 30; reuse shows the keep-alive.
    expect(server.sockets()).toBeLessThan(30);
  });

  it('reports a status it got and a refused connection as a transport error', async () => {
    const server = await serve((body) => ((body as { number: number }).number === 2 ? 503 : 202));
    const send = createPoster(server.url, 5000);
    expect(await send(1)).toMatchObject({ kind: 'response', status: 202 });
    expect(await send(2)).toMatchObject({ kind: 'response', status: 503 });

    const closed = await serve(() => 202);
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await createPoster(closed.url, 5000)(1)).toMatchObject({
      kind: 'error',
      error: 'ECONNREFUSED',
    });
  });
});
