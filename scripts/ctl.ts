import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@kafka-throttle/common';
import { adminUrl, callAdmin, UnreachableError } from './ctl/admin-client.ts';
import { type CtlArguments, parseCtlArguments, USAGE, UsageError } from './ctl/arguments.ts';
import {
  type ControlView,
  formatControl,
  formatStatus,
  type StatusView,
} from './ctl/status-table.ts';
import { readAdminToken } from './start/admin-token.ts';

/**
 * `pnpm ctl`: steers a running group through ingest's admin API. Exit 0 on success, 1 when the
 * API refused or could not be reached, 2 for bad arguments or configuration.
 */
async function main(argv: readonly string[]): Promise<number> {
  let args: CtlArguments;
  try {
    args = parseCtlArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`ctl: ${error.message} (pnpm ctl --help)\n`);
    return 2;
  }
  const { command } = args;
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: process.env, args: args.configArgs });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`ctl: ${error.problems.join('; ')}\n`);
    return 2;
  }
  // Without one configured, the token `pnpm start` made for the ingest it runs.
  const token = config.admin.token ?? readAdminToken(localDataDir());
  if (token === undefined) {
    process.stderr.write(
      'ctl: admin.token (ADMIN_TOKEN) is not set: it must be the token ingest runs with\n',
    );
    return 2;
  }
  const url = adminUrl(config.admin.host, config.admin.port);
  const change = { version: args.version, reason: args.reason };
  const [method, path, body] =
    command.kind === 'status'
      ? ['GET', '/status', undefined]
      : command.kind === 'rate'
        ? [
            'PUT',
            '/rate',
            { messages: command.messages, period: command.period, burst: command.burst, ...change },
          ]
        : ['POST', `/${command.kind}`, change];
  try {
    const answer = await callAdmin(url, token, method, path, body);
    if (answer.status >= 300) {
      const error = (answer.body as { error?: { code: string; message: string } }).error;
      process.stderr.write(
        `ctl: ${answer.status} ${error ? `${error.code}: ${error.message}` : String(answer.body)}\n`,
      );
      return 1;
    }
    if (args.json) process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
    else if (command.kind === 'status')
      process.stdout.write(`${formatStatus(answer.body as StatusView)}\n`);
    else process.stdout.write(`${formatControl(answer.body as ControlView)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof UnreachableError)) throw error;
    process.stderr.write(`ctl: ${error.message}\n`);
    return 1;
  }
}

/** Where `pnpm start` keeps the local broker's data and the admin token it made. */
function localDataDir(): string {
  return (
    process.env.KAFKA_LOCAL_DIR ?? join(fileURLToPath(new URL('../', import.meta.url)), '.kafka')
  );
}

process.exitCode = await main(process.argv.slice(2));
