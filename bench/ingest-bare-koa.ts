import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createRequire } from 'node:module';

/**
 * The benchmark's baseline (b): a bare Koa app that reads the body and answers 202 with the
 * same shape as ingest, without validating, producing or waiting for Kafka. Runs as a child
 * process of bench/ingest.ts on the port in BARE_PORT.
 *
 * Koa is loaded from the ingest package, so both sides run the very same Koa.
 */
interface BareContext {
  req: IncomingMessage;
  status: number;
  body: unknown;
}
interface KoaLike {
  use(middleware: (ctx: BareContext) => Promise<void>): KoaLike;
  callback(): RequestListener;
}

const requireFromIngest = createRequire(
  new URL('../packages/ingest/package.json', import.meta.url),
);
const Koa = requireFromIngest('koa') as new () => KoaLike;

const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  Buffer.concat(chunks);
  ctx.status = 202;
  ctx.body = { status: 'accepted', id: randomUUID(), partition: 0, offset: '0' };
});

const port = Number(process.env.BARE_PORT);
const server = createServer(app.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'bare koa listening', port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
