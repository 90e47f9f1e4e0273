import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Speaks HTTP/1.1 over a plain socket, for requests fetch will not send: lying lengths,
 * endless chunked bodies, huge headers, a client that vanishes mid-body.
 */
export class RawClient {
  readonly socket: Socket;
  private received = Buffer.alloc(0);
  private closed = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    // A server closing on us mid-write is one of the outcomes under test, not a failure.
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.closed) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** Ends our side of the connection (`shutdown(SHUT_WR)`); the server's side stays readable. */
  halfClose(): Promise<void> {
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  /** Every complete response received so far, in order. */
  get responses(): RawResponse[] {
    const all: RawResponse[] = [];
    let rest = this.received;
    for (;;) {
      const parsed = parseResponse(rest);
      if (!parsed) return all;
      all.push(parsed.response);
      rest = rest.subarray(parsed.length);
    }
  }

  /** Resolves with the first complete response, or rejects if none comes in time. */
  async response(timeoutMs = 10_000): Promise<RawResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parseResponse(this.received);
      if (parsed) return parsed.response;
      if (this.closed) throw new Error(`connection closed without a full response`);
      if (Date.now() > deadline) throw new Error('no response in time');
      await this.nextEvent(deadline - Date.now());
    }
  }

  /** Resolves once the server closed the connection. */
  async closedByServer(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server kept the connection open');
      await this.nextEvent(deadline - Date.now());
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

function parseResponse(data: Buffer): { response: RawResponse; length: number } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (data.length < end + 4 + length) return undefined;
  return {
    response: {
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
    },
    length: end + 4 + length,
  };
}
