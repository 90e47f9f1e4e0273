import { parseDuration, type RateSetting, rateProblem } from '@kafka-throttle/common';
import { AdminError, type AdminErrorCode } from './admin-errors.ts';

/** What every change may carry: the version it was based on, and why. */
export interface ChangeRequest {
  expectedVersion: number | undefined;
  reason: string | undefined;
}

export interface RateRequest extends ChangeRequest {
  rate: RateSetting;
}

const MAX_REASON = 200;

/** The body of `POST /pause` or `POST /resume`: empty, or `{"version":3,"reason":"..."}`. */
export function parseChangeRequest(body: unknown): ChangeRequest {
  const fields = objectOf(body ?? {}, ['version', 'reason']);
  return changeFields(fields);
}

/** The body of `PUT /rate`: `{"messages":10,"period":"1s","burst":1,"version":3}`. */
export function parseRateRequest(body: unknown): RateRequest {
  const fields = objectOf(body, ['messages', 'period', 'burst', 'version', 'reason']);
  const messages = fields.messages;
  if (typeof messages !== 'number') {
    throw invalid('invalid_messages', 'messages must be a number of messages per period');
  }
  const periodMs = typeof fields.period === 'boolean' ? undefined : parseDuration(fields.period);
  if (periodMs === undefined) {
    throw invalid(
      'invalid_period',
      'period must be a duration such as "250ms", "1s", "1m" or milliseconds',
    );
  }
  const burst = fields.burst ?? messages;
  if (typeof burst !== 'number') throw invalid('invalid_burst', 'burst must be a number');
  const rate = { messages, periodMs, burst };
  const problem = rateProblem(rate);
  if (problem) throw invalid(`invalid_${problem.field}` as AdminErrorCode, problem.message);
  return { rate, ...changeFields(fields) };
}

function changeFields(fields: Record<string, unknown>): ChangeRequest {
  const { version, reason } = fields;
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0)) {
    throw invalid('invalid_version', 'version must be the integer GET /status reported');
  }
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON)) {
    throw invalid('invalid_reason', `reason must be a string of at most ${MAX_REASON} characters`);
  }
  return { expectedVersion: version as number | undefined, reason: reason as string | undefined };
}

/** The body as an object holding only `allowed` fields; 400 otherwise. */
export function objectOf(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('bad_request', 'the body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw invalid(
      'unknown_field',
      `unknown field "${unknown[0]}"; expected ${allowed.map((a) => `"${a}"`).join(', ')}`,
    );
  }
  return body as Record<string, unknown>;
}

function invalid(code: AdminErrorCode, message: string): AdminError {
  return new AdminError(code, message);
}
