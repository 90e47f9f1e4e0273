import { parseDuration } from '@kafka-throttle/common';

export const USAGE = `usage: pnpm ctl <command> [options] [--<config key>=<value> ...]

commands:
  status                       state, rate, hold, backlog per partition, workers, dead letters
  pause                        stop new attempts in every worker
  resume                       start them again
  rate <messages>/<period>     set the group's rate, e.g. "rate 10/1s" or "rate 300/1m"

options:
  --burst <n>       with rate: most attempts back to back (default: messages)
  --version <n>     refuse the change (409) unless the state is still at this version
  --reason <text>   recorded with the change
  --json            print the API's JSON answer instead of a table

The admin URL and token come from the configuration: admin.host, admin.port, admin.token
(ADMIN_HOST, ADMIN_PORT, ADMIN_TOKEN, config files, or --admin.token=... here).`;

export class UsageError extends Error {}

export type CtlCommand =
  | { kind: 'status' }
  | { kind: 'pause' | 'resume' }
  | { kind: 'rate'; messages: number; period: string; burst: number | undefined };

export interface CtlArguments {
  command: CtlCommand | { kind: 'help' };
  json: boolean;
  version: number | undefined;
  reason: string | undefined;
  /** `--key=value` configuration arguments, passed on to the configuration loader. */
  configArgs: string[];
}

const RATE = /^(\d+)\/(.+)$/;

/** Parses `pnpm ctl` arguments; throws a UsageError with one line saying what is wrong. */
export function parseCtlArguments(argv: readonly string[]): CtlArguments {
  const positional: string[] = [];
  const configArgs: string[] = [];
  let json = false;
  let burst: number | undefined;
  let version: number | undefined;
  let reason: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') ? splitFlag(arg) : [undefined, undefined];
    const value = (): string => {
      const given = inline ?? argv[++i];
      if (given === undefined || given === '') throw new UsageError(`${flag} needs a value`);
      return given;
    };
    switch (flag) {
      case undefined:
        positional.push(arg);
        break;
      case '--json':
        if (inline !== undefined) throw new UsageError('--json takes no value');
        json = true;
        break;
      case '--help':
        return { command: { kind: 'help' }, json, version, reason, configArgs };
      case '--burst':
        burst = count(flag, value(), 1);
        break;
      case '--version':
        version = count(flag, value(), 0);
        break;
      case '--reason':
        reason = value();
        break;
      default:
        if (flag.includes('.') && inline !== undefined) configArgs.push(arg);
        else throw new UsageError(`unknown option ${flag}`);
    }
  }
  const [name, ...rest] = positional;
  const command = toCommand(name, rest, burst);
  return { command, json, version, reason, configArgs };
}

function toCommand(
  name: string | undefined,
  rest: string[],
  burst: number | undefined,
): CtlCommand {
  if (name === undefined)
    throw new UsageError('a command is required: status, pause, resume or rate');
  if (name !== 'rate' && burst !== undefined) throw new UsageError('--burst goes with rate only');
  const extra = (allowed: number): void => {
    if (rest.length > allowed) throw new UsageError(`unexpected argument "${rest[allowed]}"`);
  };
  switch (name) {
    case 'status':
    case 'pause':
    case 'resume':
      extra(0);
      return { kind: name };
    case 'rate': {
      extra(1);
      const spec = rest[0];
      const match = RATE.exec(spec ?? '');
      if (!spec || !match) {
        throw new UsageError(`rate needs <messages>/<period> such as 10/1s, got "${spec ?? ''}"`);
      }
      const messages = count('messages', match[1] as string, 1);
      const period = match[2] as string;
      if (!parseDuration(period)) {
        throw new UsageError(
          `the period must be a positive duration such as 1s or 250ms, got "${period}"`,
        );
      }
      if (burst !== undefined && burst > messages) {
        throw new UsageError(`--burst must be at most messages (${messages}), got ${burst}`);
      }
      return { kind: 'rate', messages, period, burst };
    }
    default:
      throw new UsageError(`unknown command "${name}": expected status, pause, resume or rate`);
  }
}

function splitFlag(arg: string): [string, string | undefined] {
  const at = arg.indexOf('=');
  return at < 0 ? [arg, undefined] : [arg.slice(0, at), arg.slice(at + 1)];
}

function count(what: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${what} must be an integer of at least ${min}, got "${text}"`);
  }
  return value;
}
