import type { IncomingMessage, ServerResponse } from 'node:http';
import { IngestError } from '../errors.ts';

/**
 * Reads the whole request body, holding at most `maxBytes` of it. A declared `Content-Length`
 * over the limit is refused before a byte is read; otherwise bytes are counted as they arrive,
 * so neither a `Content-Length` that lies nor a chunked body makes us buffer more than the
 * limit. A client that goes away mid-body rejects with `client_closed`.
 *
 * A chunk's declared size cannot be refused up front: Node's parser keeps chunk headers to
 * itself, and reading the socket ahead of it would take a second HTTP parser in JS and cost
 * the parser's direct reads from the socket on every request. The limit holds all the same,
 * counted on the bytes that arrive, and the request timeout ends a chunk that stops short.
 *
 * `res` is only used for `Expect: 100-continue`: the client is told to send its body once we
 * have decided to read it, never for a request we refuse from its headers alone.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<Buffer> {
  const header = req.headers['content-length'];
  // Node's parser has already rejected a malformed Content-Length.
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > maxBytes) {
    return Promise.reject(tooLarge(`the body is ${declared} bytes`, maxBytes));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    new BodyCollector(req, maxBytes, resolve, reject).start();
    if (req.headers.expect?.toLowerCase() === '100-continue' && !res.headersSent) {
      res.writeContinue();
    }
  });
}

// A class rather than closures: this runs for every request, and bound methods are cheaper to
// create than named closures under the TypeScript loader.
class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private received = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: IngestError) => void,
  ) {
    this.onData = this.onData.bind(this);
    this.onEnd = this.onEnd.bind(this);
    this.onGone = this.onGone.bind(this);
  }

  start(): void {
    this.req.on('data', this.onData);
    this.req.once('end', this.onEnd);
    this.req.once('error', this.onGone);
    // 'close' before 'end' means the socket went away with the body incomplete.
    this.req.once('close', this.onGone);
  }

  onData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      this.finish();
      // Stop pulling the rest off the socket; the 413 answer closes the connection.
      this.req.pause();
      this.reject(tooLarge(`the body is more than ${this.maxBytes} bytes`, this.maxBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  onEnd(): void {
    this.finish();
    const { chunks, received } = this;
    this.resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
  }

  onGone(): void {
    this.finish();
    this.reject(
      new IngestError('client_closed', `the client went away after ${this.received} body bytes`),
    );
  }

  private finish(): void {
    this.req.off('data', this.onData);
    this.req.off('end', this.onEnd);
    this.req.off('error', this.onGone);
    this.req.off('close', this.onGone);
  }
}

function tooLarge(what: string, maxBytes: number): IngestError {
  return new IngestError('body_too_large', `${what}; the limit is ${maxBytes} bytes`);
}
