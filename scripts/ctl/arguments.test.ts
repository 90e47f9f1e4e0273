import { describe, expect, it } from 'vitest';
import { parseCtlArguments, UsageError } from './arguments.ts';

describe('pnpm ctl arguments', () => {
  it('reads each command with its options and passes configuration keys on', () => {
    expect(parseCtlArguments(['status', '--json'])).toMatchObject({
      command: { kind: 'status' },
      json: true,
    });
    expect(
      parseCtlArguments(['pause', '--reason', 'destination maintenance', '--version=4']),
    ).toMatchObject({ command: { kind: 'pause' }, reason: 'destination maintenance', version: 4 });
    expect(parseCtlArguments(['rate', '10/1s', '--burst', '1', '--admin.port=9000'])).toEqual({
      command: { kind: 'rate', messages: 10, period: '1s', burst: 1 },
      json: false,
      version: undefined,
      reason: undefined,
      configArgs: ['--admin.port=9000'],
    });
    expect(parseCtlArguments(['rate', '300/1m']).command).toEqual({
      kind: 'rate',
      messages: 300,
      period: '1m',
      burst: undefined,
    });
  });

  it.each([
    [[], 'a command is required'],
    [['stop'], 'unknown command "stop"'],
    [['rate'], 'rate needs <messages>/<period>'],
    [['rate', '10'], 'rate needs <messages>/<period>'],
    [['rate', '0/1s'], 'messages must be an integer of at least 1'],
    [['rate', '10/0ms'], 'the period must be a positive duration'],
    [['rate', '10/soon'], 'the period must be a positive duration'],
    [['rate', '10/1s', '--burst', '11'], '--burst must be at most messages (10)'],
    [['rate', '10/1s', '--burst'], '--burst needs a value'],
    [['resume', '--burst', '2'], '--burst goes with rate only'],
    [['status', 'now'], 'unexpected argument "now"'],
    [['status', '--verbose'], 'unknown option --verbose'],
    [['pause', '--version', '-1'], '--version must be an integer of at least 0'],
  ])('refuses %j in one line', (argv, message) => {
    const attempt = (): unknown => parseCtlArguments(argv);
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });
});
