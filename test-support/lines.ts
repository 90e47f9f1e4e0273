import type { Readable } from 'node:stream';

/**
 * Calls `onLine` with each complete line `stream` writes, as it arrives: a process's log lines
 * come in chunks that need not end where a line does.
 */
export function eachLine(stream: Readable | null, onLine: (text: string) => void): void {
  let partial = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    partial += chunk;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) onLine(text);
  });
}
