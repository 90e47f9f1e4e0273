import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { adminListeningPort, listeningPort, waitUntilReady } from './ready.ts';

describe('listeningPort', () => {
  it('reads the port of a service\'s "listening" log line', () => {
    expect(listeningPort('{"level":30,"msg":"ingest listening","port":8080}')).toBe(8080);
    expect(listeningPort('{"msg":"drain worker listening","port":0}')).toBe(0);
  });

  it('ignores other lines', () => {
    expect(listeningPort('{"msg":"ingest stopped","port":8080}')).toBeUndefined();
    expect(listeningPort('{"msg":"listening","port":"8080"}')).toBeUndefined();
    expect(listeningPort('listening on 8080')).toBeUndefined();
    expect(listeningPort('{broken')).toBeUndefined();
  });
});

describe('adminListeningPort', () => {
  it("reads the admin server's port, and only its", () => {
    expect(adminListeningPort('{"msg":"admin server listening","port":8082}')).toBe(8082);
    expect(adminListeningPort('{"msg":"ingest listening","port":8080}')).toBeUndefined();
    expect(adminListeningPort('{"msg":"admin server listening"}')).toBeUndefined();
  });
});

describe('waitUntilReady', () => {
  it('resolves true once /readyz answers 200, after 503s', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      calls += 1;
      res.writeHead(req.url === '/readyz' && calls >= 3 ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await waitUntilReady(port, new AbortController().signal)).toBe(true);
      expect(calls).toBe(3);
    } finally {
      server.close();
    }
  });

  it('resolves false when stopped before anything answers', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 300);
    // Port 9 (discard) on loopback: nothing of ours listens there.
    expect(await waitUntilReady(9, stop.signal)).toBe(false);
  });
});
