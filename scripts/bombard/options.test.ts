import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseBombardArgs, UsageError } from './options.ts';

function options(argv: string[]) {
  const parsed = parseBombardArgs(argv);
  if (parsed.help) throw new Error('expected options, got help');
  return parsed.options;
}

describe('parseBombardArgs', () => {
  it('defaults to the original make bombard_server: 100 POSTs to localhost:8080', () => {
    expect(options([])).toEqual(DEFAULTS);
    expect(DEFAULTS).toMatchObject({ count: 100, url: 'http://localhost:8080/', rate: undefined });
  });

  it('reads every flag, in both --flag value and --flag=value forms', () => {
    expect(
      options([
        '--count',
        '7',
        '--concurrency=3',
        '--url',
        'http://127.0.0.1:9999/x',
        '--rate=2.5',
        '--timeout',
        '1500',
      ]),
    ).toEqual({
      count: 7,
      concurrency: 3,
      url: 'http://127.0.0.1:9999/x',
      rate: 2.5,
      timeoutMs: 1500,
    });
  });

  it('asks for help with --help and -h', () => {
    expect(parseBombardArgs(['--help'])).toEqual({ help: true });
    expect(parseBombardArgs(['-h'])).toEqual({ help: true });
  });

  it.each([
    [['--count', '0'], '--count must be an integer of at least 1, got "0"'],
    [['--count', 'ten'], '--count must be an integer of at least 1, got "ten"'],
    [['--count', '1.5'], '--count must be an integer of at least 1, got "1.5"'],
    [['--concurrency=-2'], '--concurrency must be an integer of at least 1, got "-2"'],
    [['--rate', '0'], '--rate must be a number above 0, got "0"'],
    [['--rate', 'fast'], '--rate must be a number above 0, got "fast"'],
    [['--url', 'localhost:8080'], '--url must be an http:// or https:// URL, got "localhost:8080"'],
    [['--url', 'ftp://x/'], '--url must be an http:// or https:// URL, got "ftp://x/"'],
    [['--timeout', 'soon'], '--timeout must be an integer of at least 1, got "soon"'],
  ])('rejects %j with a message naming the flag', (argv, message) => {
    expect(() => parseBombardArgs(argv)).toThrow(new UsageError(message));
  });

  it('rejects unknown flags, stray words and missing values', () => {
    expect(() => parseBombardArgs(['--bogus'])).toThrow(/--bogus/);
    expect(() => parseBombardArgs(['extra'])).toThrow(UsageError);
    expect(() => parseBombardArgs(['--count'])).toThrow(/--count/);
  });
});
