import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The destination process (see destination.ts): answers 200 to every POST and reports each
 * arrival to its parent over IPC. Only loopback. With an argument N, the first attempt of every
 * Nth message is answered 503 (a destination that fails some attempts): each failure is one
 * retry drain counts.
 */
const failEvery = Number(process.argv[2] ?? 0);
let firstAttempts = 0;
const send = (message: unknown): void => {
  process.send?.(message);
};

const server = createServer((req, res) => {
  // Read the clock first: this is the arrival the rate promise is checked against.
  const at = performance.timeOrigin + performance.now();
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const attempt = Number(req.headers['x-throttle-attempt'] ?? 0);
    if (attempt === 1) firstAttempts++;
    const status = failEvery > 0 && attempt === 1 && firstAttempts % failEvery === 0 ? 503 : 200;
    res.writeHead(status, { 'content-type': 'application/json' }).end(`{"ok":${status === 200}}`);
    send({
      arrival: {
        status,
        id: String(req.headers['x-throttle-id'] ?? ''),
        attempt,
        body: Buffer.concat(chunks).toString('utf8'),
        at,
      },
    });
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  send({ listening: `http://127.0.0.1:${port}/` });
});

process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
// The parent is the test; if it goes, so does the destination.
process.on('disconnect', () => process.exit(0));
