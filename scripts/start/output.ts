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
