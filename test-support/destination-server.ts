import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A recording destination in a process of its own (e2e/support/destination.ts and the drain
 * tests' destination-process.ts start it): answers 200 to every POST and reports each arrival
 * to its parent over IPC, so arrival times are read by an idle event loop rather than by a test
 * busy parsing the services' output. Only loopback. With an argument N, the first attempt of
 * every Nth message is answered 503 (a destination that fails some attempts): each failure is
 * one retry drain counts. A request with `x-warm-up` is answered and not reported.
 */
const failEvery = Number(process.argv[2] ?? 0);
let firstAttempts = 0;
const send = (message: unknown): void => {
  process.send?.(message);
};

// Arrivals go to the parent in batches, a few milliseconds late: one message per request would
// cost this event loop time while it stamps the next arrivals of a burst.
const FLUSH_MS = 20;
let pending: unknown[] = [];
let flushing: NodeJS.Timeout | undefined;
const report = (arrival: unknown): void => {
  pending.push(arrival);
  flushing ??= setTimeout(() => {
    flushing = undefined;
    send({ arrivals: pending });
    pending = [];
  }, FLUSH_MS);
};

const server = createServer((req, res) => {
  // Read the clock first: this is the arrival the rate promise is checked against.
  const at = performance.timeOrigin + performance.now();
  if (req.headers['x-warm-up']) {
    req.resume();
    res.end('{}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const attempt = Number(req.headers['x-throttle-attempt'] ?? 0);
    if (attempt === 1) firstAttempts++;
    const status = failEvery > 0 && attempt === 1 && firstAttempts % failEvery === 0 ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(`{"ok":${status === 200}}`);
    report({
      status,
      id: String(req.headers['x-throttle-id'] ?? ''),
      attempt,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      at,
      repliedAt: performance.timeOrigin + performance.now(),
    });
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  send({ listening: `http://127.0.0.1:${port}/` });
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  clearTimeout(flushing);
  // What is still batched reaches the parent before the process ends.
  server.close(() => {
    if (process.send) process.send({ arrivals: pending }, () => process.exit(0));
    else process.exit(0);
  });
});
// The parent is the test; if it goes, so does the destination.
process.on('disconnect', () => process.exit(0));
