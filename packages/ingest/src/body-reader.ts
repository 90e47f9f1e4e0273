import type { IncomingMessage, ServerResponse } from 'node:http';
import { IngestError } from './errors.ts';

/**
 * Reads the whole request body, holding at most `maxBytes` of it. A declared `Content-Length`
 * over the limit is refused before a byte is read; otherwise bytes are counted as they arrive,
 * so neither a `Content-Length` that lies nor a chunked body makes us buffer more than the
 * limit. A client that goes away mid-body rejects with `client_closed`.
 *
 * `res` is only used for `Expect: 100-continue`: the client is told to send its body once we
 * have decided to read it, never for a request we refuse from its headers alone.
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) {
    return Promise.reject(tooLarge(`the body is ${declared} bytes`, maxBytes));
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;

    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        finish();
        // Stop pulling the rest off the socket; the 413 answer closes the connection.
        req.pause();
        reject(tooLarge(`the body is more than ${maxBytes} bytes`, maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onGone = (): void => {
      finish();
      reject(new IngestError('client_closed', `the client went away after ${received} body bytes`));
    };
    const finish = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };

    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    // 'close' before 'end' means the socket went away with the body incomplete.
    req.once('close', onGone);
    if (/^100-continue$/i.test(req.headers.expect ?? '') && !res.headersSent) res.writeContinue();
  });
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  // Node's parser has already rejected a malformed Content-Length.
  return Number(header);
}

function tooLarge(what: string, maxBytes: number): IngestError {
  return new IngestError('body_too_large', `${what}; the limit is ${maxBytes} bytes`);
}
