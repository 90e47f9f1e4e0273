/** One terminal shared by several processes: every line says whose it is. */
export interface Output {
  line(source: string, text: string): void;
}

const COLORS: Record<string, string> = {
  kafka: '36', // cyan
  ingest: '32', // green
  drain: '35', // magenta
  start: '33', // yellow
};

export function createOutput(options: { write: (text: string) => void; color: boolean }): Output {
  const width = Math.max(...Object.keys(COLORS).map((name) => name.length)) + 2;
  return {
    line(source, text) {
      const label = `[${source}]`.padEnd(width);
      const code = COLORS[source];
      const prefix = options.color && code ? `\u001b[${code}m${label}\u001b[0m` : label;
      options.write(`${prefix} ${text}\n`);
    },
  };
}

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export interface GuardedStream {
  /** Writes unless the reader is gone; then the text is dropped. */
  write(text: string): void;
  readonly gone: boolean;
}

/**
 * A stdout or stderr whose reader may vanish: `pnpm start | grep x` ended by Ctrl-C (EPIPE), a
 * closed terminal (EIO). Node reports that as an 'error' event which, unhandled, kills the
 * process before it has stopped what it started. Here it becomes one call to `onGone`, and
 * later writes are dropped so the shutdown can go on silently.
 */
export function guardStream(
  stream: NodeJS.WritableStream,
  onGone: (code: string) => void,
): GuardedStream {
  let gone = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (gone) return;
    gone = true;
    onGone(error.code ?? error.message);
  });
  return {
    get gone() {
      return gone;
    },
    write(text) {
      if (gone) return;
      try {
        stream.write(text);
      } catch (error) {
        gone = true;
        onGone((error as NodeJS.ErrnoException).code ?? String(error));
      }
    },
  };
}
