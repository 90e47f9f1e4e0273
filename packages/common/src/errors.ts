/**
 * An error with a stable machine-readable `code`. Callers branch on `code`, never on `message`,
 * so messages can be improved without breaking anyone. Each package narrows `Code` to its own
 * closed union (as `CommonError` does here), so a code nobody handles cannot appear by accident.
 */
export class ThrottleError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThrottleError';
    this.code = code;
  }
}

/**
 * Every code an error thrown by `@kafka-throttle/common` can carry:
 * - `invalid_config`: a configuration value is invalid; the message names key, value and expectation.
 * - `topics_not_ready`: topics exist, but a partition still had no leader after the last check.
 * - `stopped`: the work was given up because its owner is stopping.
 * - `version_conflict`: a control change named a version the state has moved on from.
 * - `rate_change_pending`: a rate change came before the last one had taken effect.
 */
export type CommonErrorCode =
  | 'invalid_config'
  | 'topics_not_ready'
  | 'stopped'
  | 'version_conflict'
  | 'rate_change_pending';

export class CommonError extends ThrottleError<CommonErrorCode> {
  override name = 'CommonError';
}

/** Raised at start-up when configuration is invalid; `problems` has one line per bad key. */
export class ConfigError extends CommonError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('invalid_config', problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
