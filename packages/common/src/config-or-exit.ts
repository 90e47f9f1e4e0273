import { type Config, type LoadConfigOptions, loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { EXIT_CODE } from './exit-codes.ts';

/**
 * For a service's `main.ts` only: a bad configuration is a start-up failure, printed as one line
 * per bad key on stderr, exit code 2 (`EXIT_CODE.badConfig`). Anything else is a bug and is rethrown.
 */
export function loadConfigOrExit(options: LoadConfigOptions): Config {
  try {
    return loadConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
    process.exit(EXIT_CODE.badConfig);
  }
}
