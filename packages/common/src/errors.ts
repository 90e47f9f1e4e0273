/**
 * An error with a stable machine-readable `code`. Callers branch on `code`, never on `message`,
 * so messages can be improved without breaking anyone.
 */
export class ThrottleError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ThrottleError';
    this.code = code;
  }
}

/** Raised at start-up when configuration is invalid; `problems` has one line per bad key. */
export class ConfigError extends ThrottleError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('invalid_config', problems.join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
