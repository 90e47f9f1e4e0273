import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

export interface Tail {
  /** Reads what is left, then stops watching. */
  stop(): void;
}

/**
 * Follows a file that another process appends to (the broker's log), from its current end,
 * handing each complete new line to `onLine`. Polling keeps it simple and portable.
 */
export function tailFile(path: string, onLine: (line: string) => void, everyMs = 500): Tail {
  let position = existsSync(path) ? statSync(path).size : 0;
  let partial = '';
  const buffer = Buffer.alloc(64 * 1024);

  const readNew = (): void => {
    if (!existsSync(path)) return;
    const size = statSync(path).size;
    if (size < position) position = 0; // truncated or replaced
    if (size === position) return;
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, position);
        if (read === 0) break;
        position += read;
        partial += buffer.subarray(0, read).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') onLine(line);
  };

  const timer = setInterval(readNew, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      readNew();
    },
  };
}
