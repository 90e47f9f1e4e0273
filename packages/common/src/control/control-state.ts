import type { Config } from '../config.ts';

/** The group-wide rate: at most `messages` attempts in any window of `periodMs`. */
export interface RateSetting {
  messages: number;
  periodMs: number;
  burst: number;
}

/**
 * What the operator asked for: written by the admin API under the key `state`. `version` grows
 * by one with each change; 0 is the configuration's state, before the topic held any.
 */
export interface DesiredState {
  paused: boolean;
  rate: RateSetting;
  version: number;
  /** Epoch ms when the change was written. */
  changedAt: number;
  reason: string;
  /**
   * The rate before the last rate change and when that change was written (kept by the
   * changes after it), so that a worker starting while the change waits for its switch instant
   * paces like the rest of the group until then. Absent in the configuration's state and in
   * records written before it was added.
   */
  previous?: { rate: RateSetting; changedAt: number };
}

/**
 * What a destination asked for: written by a worker that got a Retry-After, under the key
 * `hold`. Every worker starts no attempt before `until`.
 */
export interface HoldState {
  until: number;
  changedAt: number;
  reason: string;
  /** Which worker wrote it (client id), for the operator. */
  by: string;
}

/** The group's control state as a follower of the control topic knows it. */
export interface ControlState {
  desired: DesiredState;
  hold: HoldState | undefined;
  /** Where `desired` came from: the topic, or the configuration while the topic holds none. */
  source: 'topic' | 'config';
}

export const CONTROL_KEYS = { desired: 'state', hold: 'hold' } as const;

/** Bounds of a rate the control topic accepts, so a typo cannot stall or flood the group. */
export const RATE_BOUNDS = { maxMessages: 1_000_000, maxPeriodMs: 3_600_000 } as const;

export function controlTopicName(requestTopic: string): string {
  return `${requestTopic}.control`;
}

/** The state the configuration gives, used only while the control topic holds none. */
export function configuredState(config: Pick<Config, 'rate'>): ControlState {
  return {
    desired: {
      paused: false,
      rate: {
        messages: config.rate.messages,
        periodMs: config.rate.period,
        burst: config.rate.burst,
      },
      version: 0,
      changedAt: 0,
      reason: 'configuration',
    },
    hold: undefined,
    source: 'config',
  };
}

/** Why a rate is not acceptable, naming the field; undefined when it is. */
export function rateProblem(rate: RateSetting): { field: string; message: string } | undefined {
  const { messages, periodMs, burst } = rate;
  if (!Number.isInteger(messages) || messages < 1 || messages > RATE_BOUNDS.maxMessages) {
    return {
      field: 'messages',
      message: `messages must be an integer from 1 to ${RATE_BOUNDS.maxMessages}`,
    };
  }
  if (!Number.isInteger(periodMs) || periodMs < 1 || periodMs > RATE_BOUNDS.maxPeriodMs) {
    return {
      field: 'period',
      message: `period must be a duration from 1ms to ${RATE_BOUNDS.maxPeriodMs / 60_000}m`,
    };
  }
  if (!Number.isInteger(burst) || burst < 1 || burst > messages) {
    return { field: 'burst', message: `burst must be an integer from 1 to messages (${messages})` };
  }
  return undefined;
}

/** A record value of the control topic, parsed; undefined for anything malformed. */
export function parseDesired(value: Buffer | null): DesiredState | undefined {
  const raw = parseObject(value);
  if (!raw) return undefined;
  const rate = raw.rate as Record<string, unknown> | undefined;
  const desired = {
    paused: raw.paused,
    rate: { messages: rate?.messages, periodMs: rate?.periodMs, burst: rate?.burst },
    version: raw.version,
    changedAt: raw.changedAt,
    reason: raw.reason,
  };
  if (
    typeof desired.paused !== 'boolean' ||
    !Number.isSafeInteger(desired.version) ||
    typeof desired.changedAt !== 'number' ||
    typeof desired.reason !== 'string'
  ) {
    return undefined;
  }
  const typed = desired as DesiredState;
  if (rateProblem(typed.rate)) return undefined;
  const previous = raw.previous as Record<string, unknown> | undefined;
  const before = previous?.rate as Record<string, unknown> | undefined;
  const previousRate = {
    messages: before?.messages,
    periodMs: before?.periodMs,
    burst: before?.burst,
  } as RateSetting;
  if (typeof previous?.changedAt !== 'number' || rateProblem(previousRate)) return typed;
  return { ...typed, previous: { rate: previousRate, changedAt: previous.changedAt } };
}

export function parseHold(value: Buffer | null): HoldState | undefined {
  const raw = parseObject(value);
  if (!raw) return undefined;
  const { until, changedAt, reason, by } = raw;
  if (
    typeof until !== 'number' ||
    typeof changedAt !== 'number' ||
    typeof reason !== 'string' ||
    typeof by !== 'string'
  ) {
    return undefined;
  }
  return { until, changedAt, reason, by };
}

function parseObject(value: Buffer | null): Record<string, unknown> | undefined {
  if (value === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
