import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Lane {
  busy: boolean;
  closed: boolean;
  waiting: [IncomingMessage, ServerResponse][];
}

/**
 * Handles the requests of one connection one after the other. Node parses pipelined requests as
 * soon as their bytes arrive and would hand them to the app at once; answers go out in order
 * anyway, so nothing is lost by waiting, and it makes one promise possible: once an answer
 * closes the connection (`Connection: close`, an error that leaves the rest of a body unread,
 * a client that went away), no request read after it on that connection is handled, so none is
 * written to Kafka without its answer.
 */
export function oneRequestAtATime(handler: RequestListener): RequestListener {
  const lanes = new WeakMap<Socket, Lane>();

  function run(lane: Lane, socket: Socket, req: IncomingMessage, res: ServerResponse): void {
    lane.busy = true;
    // 'close' follows 'finish' once Node has decided whether the connection stays open.
    res.once('close', () => {
      lane.busy = false;
      if (!res.writableFinished || socket.destroyed || !socket.writable) {
        lane.closed = true;
        lane.waiting.length = 0;
        return;
      }
      const next = lane.waiting.shift();
      if (next) run(lane, socket, next[0], next[1]);
    });
    handler(req, res);
  }

  return (req, res) => {
    const socket = req.socket;
    let lane = lanes.get(socket);
    if (lane === undefined) {
      lane = { busy: false, closed: false, waiting: [] };
      lanes.set(socket, lane);
    }
    if (lane.closed) return;
    if (lane.busy) lane.waiting.push([req, res]);
    else run(lane, socket, req, res);
  };
}
