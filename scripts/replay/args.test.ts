import { describe, expect, it } from 'vitest';
import { ArgumentError, parseReplayArgs } from './args.ts';

describe('replay arguments', () => {
  it('reads filters, repeated or comma-separated', () => {
    const args = parseReplayArgs([
      '--reason',
      'status,error',
      '--reason=attempts-exhausted',
      '--from',
      '2026-12-01T10:00:00Z',
      '--to',
      '1796122800000',
      '--id',
      'a',
      '--id',
      'b',
      '--dry-run',
    ]);
    expect(args.filters).toEqual({
      reasons: ['status', 'error', 'attempts-exhausted'],
      from: Date.parse('2026-12-01T10:00:00Z'),
      to: 1796122800000,
      ids: ['a', 'b'],
    });
    expect(args.dryRun).toBe(true);
  });

  it('no filters: everything', () => {
    expect(parseReplayArgs([])).toEqual({ filters: {}, dryRun: false, help: false });
  });

  it.each([
    [['--reason', 'timeout'], '--reason: unknown reason "timeout"'],
    [['--from', 'yesterday'], '--from: not a time, got "yesterday"'],
    [['--to', '2026-13-45T99:00'], '--to: not a time'],
    [['--from', '2026-12-02', '--to', '2026-12-01'], '--to: must be after --from'],
    [['--id', ' '], '--id: must not be empty'],
    [['--colour', 'red'], "Unknown option '--colour'"],
    [['stray'], 'stray'],
  ])('%j is a bad argument naming itself', (argv, message) => {
    expect(() => parseReplayArgs(argv)).toThrow(ArgumentError);
    expect(() => parseReplayArgs(argv)).toThrow(message);
  });
});
