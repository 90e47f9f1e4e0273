import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The counting destination's process (see drain-destination.ts): answers 204 at once and keeps
 * only arrival times, taken when a request's headers are parsed, and the ids. Its own process,
 * so its event loop does nothing else: the bench process reads the workers' debug output, and
 * an arrival stamped there would carry that work's delays.
 */
let times: number[] = [];
let ids: string[] = [];
const server = createServer((request, response) => {
  times.push(performance.timeOrigin + performance.now());
  ids.push(String(request.headers['x-throttle-id'] ?? ''));
  request.resume();
  request.on('end', () => {
    response.writeHead(204);
    response.end();
  });
});
server.keepAliveTimeout = 60_000;

process.on('message', (message: { kind: 'reset' | 'collect' }) => {
  if (message.kind === 'reset') {
    times = [];
    ids = [];
    process.send?.({ kind: 'reset' });
  } else {
    process.send?.({ kind: 'collected', times, ids });
  }
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ kind: 'listening', url: `http://127.0.0.1:${port}/hook` });
});
